"""The model table as data: every rule and price the app knows about a model.

Validation, the page's choices, pricing, the CLI's ``--list-models`` and the
README's model list all read this one table (through :mod:`dalle3.models`,
which holds the logic), so adding a model is adding a profile. OpenAI's lineup
turns over every few months: each rule carries the source it was read from,
the date, and how sure it is. ``tests/test_model_drift.py`` compares the table
with the installed ``openai`` SDK on every run, so bumping the SDK shows what
changed.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Mapping

from dalle3.models.profile import (ChatModelPrices, Citation, CustomSizeRule, GenerationTime, ModelProfile,
                                TokenPrices)

DALLE3_PAGE = "https://developers.openai.com/api/docs/models/dall-e-3"
DEPRECATIONS = "https://developers.openai.com/api/docs/deprecations"
SPEC = "openai/openai-openapi openapi.yaml CreateImageRequest (f85dbe2, 2026-08-21)"
SDK = "openai-python 3.63.0 openai/types"
SDK_GENERATE = f"{SDK}/image_generate_params.py"
SDK_EDIT = f"{SDK}/image_edit_params.py"
SDK_MODELS = f"{SDK}/image_model.py"
COMFY_V3 = "https://docs.comfy.org/built-in-nodes/OpenAIGPTImageNodeV3.md (ComfyUI's GPT Image 2.6 node)"
GUIDES_26 = ("third-party guides written from OpenAI's 2.6 pages (dev.to/apidog 'How to use the GPT-Image-2.6 "
             "API', wavespeed.ai/gpt-image-2-6-api, docs.apiyi.com gpt-image-2.6); no OpenAI page for 2.6 found")

# Output: what the app offers, what it does not, and why.
OUTPUT_FORMATS = ("png", "webp", "jpeg")
COMPRESSION_FORMATS = ("jpeg", "webp")  # output_compression applies to these only
COMPRESSION_RANGE = (0, 100)
COMPRESSION_DEFAULT = 100
TRANSPARENT_FORMATS = ("png", "webp")  # a transparent background needs one of these
NOT_OFFERED_FORMATS: Mapping[str, str] = MappingProxyType({
    "gif": "animated GIF needs OpenAI's GIF preview access for the model (frame_count, frame_duration_ms)",
    "svg": "SVG needs project access to SVG output and an SVG author model (svg.model)",
})


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
                            Citation("typical 10-40 s per image reported by users", confidence="estimate")),
    sources=(
        Citation(f"{DALLE3_PAGE} (per-image prices)"),
        Citation(f"{SDK_MODELS}: 'retired on May 12, 2026'; {DEPRECATIONS} names gpt-image-2.5-sunburst"),
        Citation(SPEC),
    ),
    note="Retired upstream; still served by compatible endpoints that offer dall-e-3.",
    rules=MappingProxyType({
        "n": Citation(f"{SPEC}: n must be 1 for dall-e-3"),
        "output_formats": Citation(f"{SDK_GENERATE}: output_format is only for GPT image models (always PNG here)"),
    }),
)

_GPT2_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
_GPT2_QUALITIES = ("low", "medium", "high", "auto")
_GPT25_QUALITIES = ("low", "medium", "high", "xhigh", "max", "auto")
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
# image-output tokens. xhigh and max scale high by 3122/1756 and 7024/1756, the
# token ratios a third-party test of 2.5 Flare measured. The bill after the
# click comes from ``usage``.
_TOKENS_PER_IMAGE = {"low": (272, 408), "medium": (1056, 1584), "high": (4160, 6240),
                     "xhigh": (7396, 11094), "max": (16640, 24960)}
_GPT2_TOKENS = TokenPrices(text_input=5.00, image_input=8.00, image_output=30.00)
_GPT2_IMAGE_PRICES = MappingProxyType({
    (quality, size): round(tokens[size != "1024x1024"] * _GPT2_TOKENS.image_output / 1e6, 4)
    for quality, tokens in _TOKENS_PER_IMAGE.items()
    for size in ("1024x1024", "1536x1024", "1024x1536")
})

_GPT_RULES = {
    "qualities": Citation(f"{SDK_GENERATE} quality: high, medium, low (and auto) for the GPT image models"),
    "custom_size": Citation(f"{SDK_GENERATE} size: WIDTHxHEIGHT, multiples of 16, 1:3..3:1, experimental above "
                          "2560x1440, max 3840x2160; pixel range 655,360-8,294,400 from third-party pages"),
    "background": Citation(f"{SDK_GENERATE} background: transparent in preview for gpt-image-2 and its snapshot; "
                         "transparent needs png or webp"),
    "output_formats": Citation(f"{SDK_GENERATE} output_format png|webp|jpeg (gif, svg need preview access); "
                             "output_compression 0-100 for webp and jpeg, default 100"),
    "n": Citation(f"{SDK_GENERATE} n: between 1 and 10"),
    "safety_identifier": Citation(f"{SDK_GENERATE} safety_identifier: a stable id per end user"),
    "input_fidelity": Citation(f"{SDK_EDIT} input_fidelity: 'For gpt-image-2, omit this parameter'"),
    "markup": Citation(f"{SDK_EDIT} markup: 'Supports GPT Image 2.5' (not gpt-image-2)"),
}

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
    # 60-150 s reported for high quality at 4K (about 8 megapixels); xhigh and max scaled from
    # high by their token ratios (about 1.8x and 4x).
    duration=GenerationTime(10.0, MappingProxyType({"low": 4.0, "medium": 8.0, "high": 18.0, "xhigh": 32.0,
                                                    "max": 72.0, "auto": 18.0}),
                            Citation("users' reports: 60-150 s for high quality at 3840x2160; xhigh/max scaled "
                                   "by token ratios", confidence="estimate")),
    sources=(
        Citation(f"{SPEC} (quality, size rules, background, moderation, output_format)"),
        Citation("OpenAI's gpt-image-2.6-sunburst page: $5 text in, $8 image in, $30 image out per 1M; "
               "the same figures for gpt-image-2, 2.5 and 2.6-flare only on third-party pages", confidence="unconfirmed"),
        Citation("per-image figures: gpt-image-1 token counts x $30/1M (xhigh, max: third-party token ratios)",
               confidence="estimate"),
        Citation(f"{SDK_GENERATE}: multiples of 16, 1:3..3:1, experimental above 2560x1440, max 3840x2160; "
               "pixel range 655,360-8,294,400 from third-party pages", confidence="unconfirmed"),
    ),
    output_formats=OUTPUT_FORMATS,
    max_images=10,
    safety_identifier=True,
    preview=MappingProxyType({"background": ("transparent",)}),
    rules=MappingProxyType(_GPT_RULES),
)


def _variant(model_id: str, label: str, **changes) -> ModelProfile:
    return replace(GPT_IMAGE_2, id=model_id, label=label, **changes)


_GPT25_RULES = MappingProxyType({
    **_GPT_RULES,
    "qualities": Citation(f"{SDK_GENERATE} quality: 2.5 sunburst/flare and their 2026-09-08 snapshots also "
                        "support xhigh and max"),
    "background": Citation(f"{SDK_GENERATE} background: 2.5 models (and snapshots) support opaque and transparent"),
    "markup": Citation(f"{SDK_EDIT} markup: 'Supports GPT Image 2.5'"),
})
_GPT25 = dict(qualities=_GPT25_QUALITIES, markup=True, preview=MappingProxyType({}), rules=_GPT25_RULES)

_GPT26_RULES = MappingProxyType({
    **_GPT_RULES,
    "qualities": Citation(f"xhigh and max: {GUIDES_26}; the SDK names them for 2.5 only", confidence="unconfirmed"),
    "custom_size": Citation(f"WxH as for gpt-image-2: {COMFY_V3}; the SDK's size text is silent on 2.6",
                          confidence="unconfirmed"),
    "background": Citation(f"{SDK_GENERATE}: 'transparent backgrounds are available for supported GPT Image "
                         "models' (2.6 not named)", confidence="unconfirmed"),
    "complexity": Citation("developers.openai.com model pages for gpt-image-2.6-* (complexity low|medium|high, "
                         "default high); the SDK has complexity without naming models", confidence="unconfirmed"),
    "markup": Citation(f"markup on 2.6 edits: {GUIDES_26}; the SDK says 'Supports GPT Image 2.5'",
                     confidence="unconfirmed"),
})
_GPT26 = dict(qualities=_GPT25_QUALITIES, extras=_GPT26_EXTRAS, extra_defaults=_GPT26_DEFAULTS, markup=True,
              preview=MappingProxyType({}), rules=_GPT26_RULES,
              sources=GPT_IMAGE_2.sources + (_GPT26_RULES["complexity"], _GPT26_RULES["qualities"]))


def _gpt1(model_id: str, label: str, lifecycle: str, shutdown: str, prices: tuple[float, ...],
          tokens: TokenPrices | None, source: Citation, fidelity: tuple[str, ...]) -> ModelProfile:
    """A first-generation GPT Image model: presets only, per-image table (low, medium, high × square, wide)."""
    table = {(q, size): prices[2 * i + (size != "1024x1024")]
             for i, q in enumerate(("low", "medium", "high")) for size in ("1024x1024", "1536x1024", "1024x1536")}
    rules = {**_GPT_RULES, "input_fidelity": Citation(f"{SDK_EDIT} input_fidelity: high and low on gpt-image-1.5, "
                                                    "only low on gpt-image-1-mini")}
    del rules["custom_size"]
    return replace(
        GPT_IMAGE_2, id=model_id, family="gpt-image-1", label=label, lifecycle=lifecycle, shutdown=shutdown,
        successor="gpt-image-2", custom_size=None, image_prices=MappingProxyType(table), token_prices=tokens,
        input_fidelity=fidelity, preview=MappingProxyType({}), rules=MappingProxyType(rules),
        sources=(source, SHUTDOWN_2026_12 if shutdown == "2026-12-01" else
                 Citation(f"{DEPRECATIONS} (shutdown date; OpenAI recommends gpt-image-2.6 models)")),
    )


def _with_rule(profile: ModelProfile, rule: str, source: Citation) -> ModelProfile:
    return replace(profile, rules=MappingProxyType({**profile.rules, rule: source}))


# Announced 2026-06-02, shut down 2026-12-01 (the deprecations page; OpenAI recommends the 2.6 models,
# the table offers gpt-image-2, the closest in rules and price).
SHUTDOWN_2026_12 = Citation(f"{DEPRECATIONS}: gpt-image-1.5 (and -2025-12-16), gpt-image-1-mini and "
                          "chatgpt-image-latest deprecated 2026-06-02, shut down 2026-12-01", read="2026-12-07")

_GPT1_MODELS = (
    _gpt1("gpt-image-1.5", "GPT Image 1.5", "retired", "2026-12-01",
          (0.009, 0.013, 0.034, 0.050, 0.133, 0.200), None,
          Citation("per-image prices from third-party copies of OpenAI's pricing page; token prices not "
                 "found, so the bill shown is the per-image figure", confidence="unconfirmed"), ("low", "high")),
    _gpt1("gpt-image-1-mini", "GPT Image 1 mini", "retired", "2026-12-01",
          (0.005, 0.006, 0.011, 0.015, 0.036, 0.052), TokenPrices(2.00, 2.50, 8.00),
          Citation("https://developers.openai.com/api/docs/models/gpt-image-1-mini (per-image and token prices)"),
          ("low",)),
    # An alias OpenAI pointed at ChatGPT's current image model; the SDK lists it for generate, edit and
    # the Responses image tool and gives it "the same input constraints as GPT image models".
    _with_rule(_gpt1("chatgpt-image-latest", "ChatGPT Image (latest)", "retired", "2026-12-01",
                     (0.009, 0.013, 0.034, 0.050, 0.133, 0.200), None,
                     Citation("priced here as gpt-image-1.5, the first-generation model the alias served; no "
                            "price of its own found", confidence="unconfirmed"), ("low", "high")),
               "id", Citation(f"{SDK_MODELS} ImageModel; {SDK_EDIT} model: 'chatgpt-image-latest follows the same "
                            "input constraints as GPT image models'; openai/types/responses/tool.py image_generation")),
    replace(_gpt1("gpt-image-1", "GPT Image 1", "retired", "2026-10-23",
                  (0.011, 0.016, 0.042, 0.063, 0.167, 0.250), TokenPrices(5.00, 10.00, 40.00),
                  Citation("https://developers.openai.com/api/docs/models/gpt-image-1 (per-image and token prices)"),
                  ()), successor="gpt-image-2.5-sunburst"),
)

MODELS: Mapping[str, ModelProfile] = MappingProxyType({
    p.id: p
    for p in (
        DALLE3,
        GPT_IMAGE_2,
        _variant("gpt-image-2-2026-04-21", "GPT Image 2 (2026-04-21 snapshot)"),
        _variant("gpt-image-2.5-sunburst", "GPT Image 2.5 Sunburst", **_GPT25),
        _variant("gpt-image-2.5-sunburst-2026-09-08", "GPT Image 2.5 Sunburst (2026-09-08 snapshot)", **_GPT25),
        _variant("gpt-image-2.5-flare", "GPT Image 2.5 Flare", **_GPT25),
        _variant("gpt-image-2.5-flare-2026-09-08", "GPT Image 2.5 Flare (2026-09-08 snapshot)", **_GPT25),
        _variant("gpt-image-2.6-sunburst", "GPT Image 2.6 Sunburst", **_GPT26),
        _variant("gpt-image-2.6-flare", "GPT Image 2.6 Flare", **_GPT26,
                 note="OpenAI's recommended replacement for retired image models."),
        *_GPT1_MODELS,
    )
})

# Image models the SDK lists that the app does not drive, and why (the drift test reads this).
NOT_DRIVEN: Mapping[str, str] = MappingProxyType({
    "dall-e-2": "retired on 2026-05-12 (the SDK's ImageModel note); this app never drove it",
})

# Longest prefix first, so "gpt-image-2.6-x" borrows 2.6 rules, not 2's.
FAMILY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gpt-image-2.6-", "gpt-image-2.6-flare"),
    ("gpt-image-2.5-", "gpt-image-2.5-flare"),
    ("gpt-image-2", "gpt-image-2"),
    ("gpt-image-1", "gpt-image-1.5"),
    ("dall-e-3", "dall-e-3"),
)

# The Batch API bills every model's requests (tokens and per-image prices alike) at half the
# synchronous price, and answers within its completion window, 24 hours.
BATCH_PRICE_FACTOR = 0.5
BATCH_PRICE_SOURCE = Citation("https://help.openai.com/en/articles/9197833-batch-api-faq: 'Each model will be "
                            "offered at 50% cost discount vs. the synchronous APIs'; "
                            f"{SDK}/batch_create_params.py: completion_window '24h'")
BATCH_COMPLETION_WINDOW = "24h"

# Mainline models that drive the image tool in a conversation (POST /responses). Their own tokens
# (the conversation so far in, the answer and its reasoning out) are billed beside the image tool's.
_CHAT_PRICES_READ = "2026-12-07"
_CHAT_PRICE_SOURCE = ("OpenAI's pricing page as quoted by tokenmix.ai/blog/openai-api-cost-2026-gpt-5-5-5-4-nano-batch "
                      "and morphllm.com/openai-api-pricing (standard tier, short context); no OpenAI page read directly")
CHAT_MODELS: Mapping[str, ChatModelPrices] = MappingProxyType({
    model: ChatModelPrices(*prices, Citation(_CHAT_PRICE_SOURCE, read=_CHAT_PRICES_READ, confidence="estimate"))
    for model, prices in (
        ("gpt-5.5", (5.00, 0.50, 30.00)),
        ("gpt-5.4", (2.50, 0.25, 15.00)),
        ("gpt-5.4-mini", (0.75, 0.075, 4.50)),
        ("gpt-5.4-nano", (0.20, 0.02, 1.25)),
    )
})
DEFAULT_CHAT_MODEL = "gpt-5.4-mini"  # the image tool's bill dominates a turn; the cheap steering model suffices
