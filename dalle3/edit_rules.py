"""Per-model rules for edits and batches: ``n``, ``input_fidelity``, ``markup``.

TO FOLD INTO THE MODEL TABLE (``dalle3/models.py``): these belong on
``ModelProfile``; they live here, as data, only until the table carries them.
:func:`rules_for` already prefers the profile's own fields when it has them
(``max_images``, ``input_fidelity``, ``markup``, as branch ``table`` names
them), so folding is deleting this table (``edits`` stays: only GPT Image models edit). Source for every row: the ``openai`` SDK 3.57.0,
``types/image_edit_params.py`` and ``types/image_generate_params.py``
(read 2026-11-29): ``n`` 1–10 (dall-e-3 only 1); ``input_fidelity`` high|low on
gpt-image-1.5, only low on gpt-image-1-mini, omitted for gpt-image-2;
``markup`` "supports GPT Image 2.5" (the issue: 2.5 and later, so 2.6 too);
dall-e-3 has no edits endpoint (only dall-e-2 had one).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from dalle3.models import FAMILY_PREFIXES, ModelProfile


@dataclass(frozen=True)
class EditRules:
    """What one model takes on ``/images/edits`` and how many images per call."""

    edits: bool
    max_n: int
    input_fidelity: tuple[str, ...]  # empty: the parameter is never sent
    markup: bool


# Generation parameters that /images/edits does not take (absent from the SDK's ImageEditParams).
EDIT_OMITS: tuple[str, ...] = ("moderation",)

_GPT2 = EditRules(edits=True, max_n=10, input_fidelity=(), markup=False)
_GPT25 = EditRules(edits=True, max_n=10, input_fidelity=(), markup=True)

EDIT_RULES: Mapping[str, EditRules] = MappingProxyType({
    "dall-e-3": EditRules(edits=False, max_n=1, input_fidelity=(), markup=False),
    "gpt-image-2": _GPT2,
    "gpt-image-2-2026-04-21": _GPT2,
    "gpt-image-2.5-sunburst": _GPT25,
    "gpt-image-2.5-flare": _GPT25,
    "gpt-image-2.6-sunburst": _GPT25,
    "gpt-image-2.6-flare": _GPT25,
    "gpt-image-1.5": EditRules(edits=True, max_n=10, input_fidelity=("high", "low"), markup=False),
    "gpt-image-1-mini": EditRules(edits=True, max_n=10, input_fidelity=("low",), markup=False),
    "gpt-image-1": EditRules(edits=True, max_n=10, input_fidelity=("high", "low"), markup=False),
})
_MARKUP_PREFIXES = ("gpt-image-2.5-", "gpt-image-2.6-")


def rules_for(profile: ModelProfile) -> EditRules:
    """The profile's own fields where the table has them, else this module's row for its id or family."""
    row = EDIT_RULES.get(profile.id)
    if row is None:
        base = next((b for prefix, b in FAMILY_PREFIXES if profile.id.startswith(prefix)), "gpt-image-2")
        row = EDIT_RULES.get(base, _GPT2)
        if profile.id.startswith(_MARKUP_PREFIXES):
            row = EditRules(row.edits, row.max_n, row.input_fidelity, True)
    return EditRules(
        edits=bool(getattr(profile, "edits", row.edits)),
        max_n=int(getattr(profile, "max_images", row.max_n)),
        input_fidelity=tuple(getattr(profile, "input_fidelity", row.input_fidelity) or ()),
        markup=bool(getattr(profile, "markup", row.markup)),
    )
