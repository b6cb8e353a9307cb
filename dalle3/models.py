"""The model table: every rule and price the app knows about a model, as data.

Validation, the page's choices, pricing, the CLI's ``--list-models`` and the
README's model list all read this one table, so adding a model is adding a
profile. OpenAI's lineup turns over every few months: each figure carries the
source it was read from and the date, and is marked where it is an estimate or
unconfirmed. An id the endpoint offers that is not listed here but starts with
a known family's prefix is served with that family's rules, labelled so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

TABLE_CHECKED = "2026-11-27"

DALLE3_PAGE = "https://developers.openai.com/api/docs/models/dall-e-3"
DEPRECATIONS = "https://developers.openai.com/api/docs/deprecations"
GPT_IMAGE_2_PAGE = "https://developers.openai.com/api/docs/models/gpt-image-2"
SPEC = "openai/openai-openapi openapi.yaml CreateImageRequest (f85dbe2, 2026-08-21)"


@dataclass(frozen=True)
class Source:
    """Where a rule or price was read, when, and how sure it is."""

    where: str
    read: str = TABLE_CHECKED
    confidence: str = "confirmed"  # confirmed | estimate | unconfirmed


@dataclass(frozen=True)
class CustomSizeRule:
    """Free ``WxH`` sizes, as the gpt-image-2 family takes them."""

    multiple: int = 16
    max_edge: int = 3840
    max_ratio: float = 3.0
    min_pixels: int = 655_360
    max_pixels: int = 8_294_400
    experimental_above: int = 2560 * 1440

    def describe(self) -> str:
        """The rule in words, for the page's note and the CLI's model table."""
        ratio = f"1:{self.max_ratio:g} to {self.max_ratio:g}:1"
        return f"WIDTHxHEIGHT (multiples of {self.multiple}, up to {self.max_edge}, {ratio})"


@dataclass(frozen=True)
class TokenPrices:
    """USD per 1M tokens; image output dominates the bill."""

    text_input: float
    image_input: float
    image_output: float
    text_output: float = 0.0


@dataclass(frozen=True)
class GenerationTime:
    """How long one image takes at most in ordinary use: the basis of the client's timeouts.

    ``fixed_s + per_megapixel_s[quality] × megapixels``: a 1024² image is about one
    megapixel, 3840x2160 about eight. The figures are generous upper ends of what
    people report, not averages; the client allows several times this before it
    gives up, so they only need the right order of magnitude.
    """

    fixed_s: float
    per_megapixel_s: Mapping[str, float]
    source: Source

    def expected_s(self, quality: str, megapixels: float) -> float:
        return self.fixed_s + self.per_megapixel_s.get(quality, max(self.per_megapixel_s.values())) * megapixels


@dataclass(frozen=True)
class ModelProfile:
    """What one model accepts and costs."""

    id: str
    family: str
    label: str
    lifecycle: str  # active | deprecated | retired
    shutdown: str | None
    successor: str | None
    qualities: tuple[str, ...]
    default_quality: str
    styles: tuple[str, ...]  # empty: the model takes no style
    sizes: tuple[str, ...]  # the presets offered in the page
    custom_size: CustomSizeRule | None
    response_format: bool  # send response_format=b64_json (DALL·E only)
    extras: Mapping[str, tuple[str, ...]]  # extra parameters and allowed values
    extra_defaults: Mapping[str, str]  # sent explicitly when the user sets none
    prompt_limit: int
    image_prices: Mapping[tuple[str, str], float]  # (quality, size) -> USD per image
    token_prices: TokenPrices | None  # None: the bill is the per-image figure (or unknown)
    sources: tuple[Source, ...]
    billing: str = "tokens"  # "image": a flat, exact price per image (DALL·E)
    streams: bool = False  # answers stream=true with partial images (server-sent events)
    duration: GenerationTime | None = None  # None: the client's fixed defaults
    assumed_from: str | None = None  # set when rules are borrowed from a family
    note: str = ""

    @property
    def default_size(self) -> str:
        return self.sizes[0]

    @property
    def default_style(self) -> str | None:
        return self.styles[0] if self.styles else None


_DALLE3_PRICES = {
    ("standard", "1024x1024"): 0.040,
    ("standard", "1024x1792"): 0.080,
    ("standard", "1792x1024"): 0.080,
    ("hd", "1024x1024"): 0.080,
    ("hd", "1024x1792"): 0.120,
    ("hd", "1792x1024"): 0.120,
}

DALLE3 = ModelProfile(
    id="dall-e-3",
    family="dall-e-3",
    label="DALL·E 3",
    lifecycle="retired",
    shutdown="2026-05-12",
    successor="gpt-image-2",
    qualities=("standard", "hd"),
    default_quality="standard",
    styles=("natural", "vivid"),
    sizes=("1024x1024", "1024x1792", "1792x1024"),
    custom_size=None,
    response_format=True,
    extras=MappingProxyType({}),
    extra_defaults=MappingProxyType({}),
    prompt_limit=4000,
    image_prices=MappingProxyType(_DALLE3_PRICES),
    token_prices=None,
    billing="image",
    duration=GenerationTime(20.0, MappingProxyType({"standard": 15.0, "hd": 25.0}),
                        Source("typical 10-40 s per image reported by users", confidence="estimate")),
    sources=(
        Source(f"{DALLE3_PAGE} (per-image prices)"),
        Source(f"{DEPRECATIONS}: removed from the API 2026-05-12 (the date itself from third-party copies); "
               "OpenAI's page now names gpt-image-2.5-sunburst, same family rules as gpt-image-2", confidence="unconfirmed"),
        Source(SPEC),
    ),
    note="Retired upstream; still served by compatible endpoints that offer dall-e-3.",
)

_GPT2_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
_GPT2_QUALITIES = ("low", "medium", "high", "auto")
_GPT2_EXTRAS = MappingProxyType({
    "background": ("auto", "opaque", "transparent"),
    "moderation": ("auto", "low"),
})
_GPT2_DEFAULTS = MappingProxyType({"background": "auto", "moderation": "auto"})
_GPT26_EXTRAS = MappingProxyType({**_GPT2_EXTRAS, "complexity": ("low", "medium", "high")})
_GPT26_DEFAULTS = MappingProxyType({**_GPT2_DEFAULTS, "complexity": "high"})

# OpenAI publishes no per-image table for gpt-image-2: these "before the click"
# figures are gpt-image-1's documented output-token counts per quality and size
# (272/1056/4160 square, 408/1584/6240 portrait or landscape) × $30 per 1M
# image-output tokens. The bill after the click comes from ``usage``.
_TOKENS_PER_IMAGE = {"low": (272, 408), "medium": (1056, 1584), "high": (4160, 6240)}
_GPT2_TOKENS = TokenPrices(text_input=5.00, image_input=8.00, image_output=30.00)
_GPT2_IMAGE_PRICES = MappingProxyType({
    (quality, size): round(tokens[size != "1024x1024"] * _GPT2_TOKENS.image_output / 1e6, 4)
    for quality, tokens in _TOKENS_PER_IMAGE.items()
    for size in ("1024x1024", "1536x1024", "1024x1536")
})

GPT_IMAGE_2 = ModelProfile(
    id="gpt-image-2",
    family="gpt-image-2",
    label="GPT Image 2",
    lifecycle="active",
    shutdown=None,
    successor=None,
    qualities=_GPT2_QUALITIES,
    default_quality="medium",
    styles=(),
    sizes=_GPT2_SIZES,
    custom_size=CustomSizeRule(),
    response_format=False,
    extras=_GPT2_EXTRAS,
    extra_defaults=_GPT2_DEFAULTS,
    prompt_limit=32000,
    image_prices=_GPT2_IMAGE_PRICES,
    token_prices=_GPT2_TOKENS,
    streams=True,
    # 60-150 s reported for high quality at 4K (about 8 megapixels).
    duration=GenerationTime(10.0, MappingProxyType({"low": 4.0, "medium": 8.0, "high": 18.0, "auto": 18.0}),
                        Source("users' reports: 60-150 s for high quality at 3840x2160", confidence="estimate")),
    sources=(
        Source(f"{SPEC} (quality, size rules, background, moderation, output_format)"),
        Source("OpenAI's gpt-image-2.6-sunburst page: $5 text in, $8 image in, $30 image out per 1M; "
               "the same figures for gpt-image-2, 2.5 and 2.6-flare only on third-party pages", confidence="unconfirmed"),
        Source("per-image figures: gpt-image-1 token counts x $30/1M", confidence="estimate"),
        Source(f"{SPEC}: multiples of 16, 1:3..3:1, experimental above 2560x1440, max 3840x2160; "
               "pixel range 655,360-8,294,400 from third-party pages", confidence="unconfirmed"),
        Source("quality xhigh/max: named only by third-party pages, left out", confidence="unconfirmed"),
    ),
)


def _variant(model_id: str, label: str, **changes) -> ModelProfile:
    return replace(GPT_IMAGE_2, id=model_id, label=label, **changes)


def _gpt1(model_id: str, label: str, lifecycle: str, shutdown: str, prices: tuple[float, ...],
          tokens: TokenPrices | None, source: Source) -> ModelProfile:
    """A first-generation GPT Image model: presets only, per-image table (low, medium, high × square, wide)."""
    table = {(q, size): prices[2 * i + (size != "1024x1024")]
             for i, q in enumerate(("low", "medium", "high")) for size in ("1024x1024", "1536x1024", "1024x1536")}
    return replace(
        GPT_IMAGE_2, id=model_id, family="gpt-image-1", label=label, lifecycle=lifecycle, shutdown=shutdown,
        successor="gpt-image-2", custom_size=None, image_prices=MappingProxyType(table), token_prices=tokens,
        sources=(source, Source(f"{DEPRECATIONS} (shutdown date; OpenAI recommends gpt-image-2.6 models)")),
    )


_GPT1_MODELS = (
    _gpt1("gpt-image-1.5", "GPT Image 1.5", "deprecated", "2026-12-01",
          (0.009, 0.013, 0.034, 0.050, 0.133, 0.200), None,
          Source("per-image prices from third-party copies of OpenAI's pricing page; token prices not "
                 "found, so the bill shown is the per-image figure", confidence="unconfirmed")),
    _gpt1("gpt-image-1-mini", "GPT Image 1 mini", "deprecated", "2026-12-01",
          (0.005, 0.006, 0.011, 0.015, 0.036, 0.052), TokenPrices(2.00, 2.50, 8.00),
          Source("https://developers.openai.com/api/docs/models/gpt-image-1-mini (per-image and token prices)")),
    _gpt1("gpt-image-1", "GPT Image 1", "retired", "2026-10-23",
          (0.011, 0.016, 0.042, 0.063, 0.167, 0.250), TokenPrices(5.00, 10.00, 40.00),
          Source("https://developers.openai.com/api/docs/models/gpt-image-1 (per-image and token prices)")),
)

_COMPLEXITY_SOURCE = Source(
    "developers.openai.com model pages for gpt-image-2.6-* (complexity low|medium|high, default high)",
    confidence="unconfirmed",
)

MODELS: Mapping[str, ModelProfile] = MappingProxyType({
    p.id: p
    for p in (
        DALLE3,
        GPT_IMAGE_2,
        _variant("gpt-image-2-2026-04-21", "GPT Image 2 (2026-04-21 snapshot)"),
        _variant("gpt-image-2.5-sunburst", "GPT Image 2.5 Sunburst"),
        _variant("gpt-image-2.5-flare", "GPT Image 2.5 Flare"),
        _variant(
            "gpt-image-2.6-sunburst", "GPT Image 2.6 Sunburst",
            extras=_GPT26_EXTRAS, extra_defaults=_GPT26_DEFAULTS,
            sources=GPT_IMAGE_2.sources + (_COMPLEXITY_SOURCE,),
        ),
        _variant(
            "gpt-image-2.6-flare", "GPT Image 2.6 Flare",
            extras=_GPT26_EXTRAS, extra_defaults=_GPT26_DEFAULTS,
            sources=GPT_IMAGE_2.sources + (_COMPLEXITY_SOURCE,),
            note="OpenAI's recommended replacement for retired image models.",
        ),
        *_GPT1_MODELS,
    )
})

# Longest prefix first, so "gpt-image-2.6-x" borrows 2.6 rules, not 2's.
FAMILY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gpt-image-2.6-", "gpt-image-2.6-flare"),
    ("gpt-image-2", "gpt-image-2"),
    ("gpt-image-1", "gpt-image-1.5"),
    ("dall-e-3", "dall-e-3"),
)

DEFAULT_MODEL = DALLE3.id
DEFAULT_STYLE = DALLE3.default_style or "natural"

# Every value any model takes: the page's Radio/Dropdown choices must accept
# all of them (Gradio checks inputs against declared choices before our code).
ALL_QUALITIES: tuple[str, ...] = tuple(dict.fromkeys(q for p in MODELS.values() for q in p.qualities))
ALL_SIZES: tuple[str, ...] = tuple(dict.fromkeys(s for p in MODELS.values() for s in p.sizes))
ALL_STYLES: tuple[str, ...] = DALLE3.styles
ALL_EXTRAS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    name: tuple(dict.fromkeys(v for p in MODELS.values() for v in p.extras.get(name, ())))
    for name in dict.fromkeys(n for p in MODELS.values() for n in p.extras)
})


# What an id outside the table may look like (OpenAI's ids are lower-case letters,
# digits, dots, dashes): model ids come from PNGs people drop in and from the
# endpoint's listing, and end up in labels and status text.
MODEL_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def resolve(model_id: str) -> ModelProfile | None:
    """The profile for ``model_id``: listed, or borrowed from its family by prefix.

    An id outside the table must match :data:`MODEL_ID_PATTERN` as a whole, so
    text such as ``gpt-image-2 ![x](http://host/p.png)`` is never a model.
    """
    if not isinstance(model_id, str):
        return None
    if model_id in MODELS:
        return MODELS[model_id]
    if not MODEL_ID_PATTERN.fullmatch(model_id):
        return None
    for prefix, base_id in FAMILY_PREFIXES:
        if model_id.startswith(prefix):
            base = MODELS[base_id]
            return replace(
                base, id=model_id, label=model_id, lifecycle="active", shutdown=None,
                successor=None, assumed_from=base.family,
                note=f"rules assumed from the {base.family} family",
            )
    return None


_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def image_models(listing: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The entries of a ``GET /models`` listing that this app can drive.

    Each keeps only what the app shows, checked: its ``id`` (see :func:`resolve`)
    and a ``shutdown_date`` written YYYY-MM-DD.
    """
    offered: dict[str, dict[str, Any]] = {}
    for entry in listing:
        model_id, shutdown = entry.get("id"), entry.get("shutdown_date")
        if resolve(model_id) is None:
            continue
        offered[model_id] = {"id": model_id}
        if isinstance(shutdown, str) and _DATE_PATTERN.fullmatch(shutdown):
            offered[model_id]["shutdown_date"] = shutdown
    return offered


def closest_settings(profile: ModelProfile, quality: str, size: str) -> tuple[str, str]:
    """The settings on ``profile`` nearest to another model's, for a one-click switch."""
    mapping = {"hd": "high", "standard": "medium"}
    new_quality = quality if quality in profile.qualities else mapping.get(quality, profile.default_quality)
    if new_quality not in profile.qualities:
        new_quality = profile.default_quality
    new_size = size if size_problem(profile, size) is None else profile.default_size
    return new_quality, new_size


def quoted(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: outside values go into messages bounded."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's 4300-digit conversion limit
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= limit else text[:limit] + "…"


_SIZE_PATTERN = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1536x864"`` -> (1536, 864); None when it is not ``WxH`` in ASCII digits.

    ``str.isdigit`` would pass superscript, fullwidth and Arabic-Indic digits
    (which ``int`` then rejects or silently converts); five digits bound the edge.
    """
    match = _SIZE_PATTERN.fullmatch(size) if isinstance(size, str) else None
    return (int(match[1]), int(match[2])) if match else None


def size_problem(profile: ModelProfile, size: str) -> str | None:
    """Why ``size`` is not allowed for ``profile``, or None when it is."""
    if size in profile.sizes:
        return None
    allowed = ", ".join(profile.sizes)
    rule = profile.custom_size
    if rule is None:
        return f"Size {quoted(size)} is not available for {profile.id}. Choose one of: {allowed}."
    parsed = parse_size(size)
    if parsed is None:
        return f"Size {quoted(size)} is not a preset ({allowed}) or a custom size written WIDTHxHEIGHT in digits 0-9, e.g. 1536x864."
    w, h = parsed
    if w % rule.multiple or h % rule.multiple:
        return f"Size {size}: width and height must both be multiples of {rule.multiple}."
    if max(w, h) > rule.max_edge:
        return f"Size {size}: the long edge may be at most {rule.max_edge} pixels."
    if max(w, h) > rule.max_ratio * min(w, h):
        return f"Size {size}: the aspect ratio must be between 1:3 and 3:1."
    if not rule.min_pixels <= w * h <= rule.max_pixels:
        return (f"Size {size}: {w * h:,} pixels; {profile.id} takes "
                f"{rule.min_pixels:,} to {rule.max_pixels:,} pixels.")
    return None


def is_experimental(profile: ModelProfile, size: str) -> bool:
    """Sizes above 2560x1440 are labelled experimental by OpenAI."""
    parsed = parse_size(size)
    rule = profile.custom_size
    return bool(rule and parsed and parsed[0] * parsed[1] > rule.experimental_above)
