"""The value types of the model table: a profile, its size rule, prices and sources.

Frozen dataclasses, because profiles cross every module line (validation,
pricing, the page, the CLI). The data itself is in :mod:`dalle3.models.table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

TABLE_CHECKED = "2026-12-07"


@dataclass(frozen=True)
class Citation:
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
    source: Citation

    def expected_s(self, quality: str, megapixels: float) -> float:
        return self.fixed_s + self.per_megapixel_s.get(quality, max(self.per_megapixel_s.values())) * megapixels


@dataclass(frozen=True)
class ModelProfile:
    """What one model accepts and costs.

    ``rules`` names the source of each rule by the field it backs
    (``qualities``, ``custom_size``, ``background``, ``output_formats``, ``n``,
    ``input_fidelity``, ``markup``, ``safety_identifier``...): the page and the
    error messages say "unconfirmed" where the table is not sure.
    """

    id: str
    family: str
    label: str
    lifecycle: str  # active | deprecated | retired, as recorded; dalle3.models.lifecycle reads the dates against today
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
    sources: tuple[Citation, ...]
    billing: str = "tokens"  # "image": a flat, exact price per image (DALL·E)
    streams: bool = False  # answers stream=true with partial images (server-sent events)
    duration: GenerationTime | None = None  # None: the client's fixed defaults
    assumed_from: str | None = None  # set when rules are borrowed from a family
    deployment_of: str | None = None  # set for a deployment name (Azure, a gateway): the table model it serves
    note: str = ""
    output_formats: tuple[str, ...] = ()  # empty: always PNG, no output_format parameter
    max_images: int = 1  # the API's n range is 1..max_images
    safety_identifier: bool = False  # the request may carry safety_identifier

    @property
    def gpt_image(self) -> bool:
        """A GPT Image model (token-billed, edits, output formats), as opposed to DALL·E: the one test of it."""
        return self.family.startswith("gpt-image")
    input_fidelity: tuple[str, ...] = ()  # edits: values of input_fidelity; empty: omit it
    markup: bool = False  # edits: takes a markup overlay
    preview: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    rules: Mapping[str, Citation] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def default_size(self) -> str:
        return self.sizes[0]

    @property
    def default_style(self) -> str | None:
        return self.styles[0] if self.styles else None


@dataclass(frozen=True)
class ChatModelPrices:
    """A mainline (Responses API) model's text token prices, USD per 1M tokens, and where they were read."""

    text_input: float
    cached_input: float
    text_output: float
    source: Citation
