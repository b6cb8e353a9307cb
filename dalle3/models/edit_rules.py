"""Per-model rules for edits and batches, read from the model table.

The table (``dalle3/models/table.py``) carries ``max_images`` (the ``n`` range),
``input_fidelity`` (its values; empty: never sent) and ``markup`` per model,
each with its source. This module only gathers them for the edit path, plus
two facts of the edits endpoint: only GPT Image models edit (``ModelProfile.gpt_image``;
the ``openai`` SDK's ``types/image_edit_params.py`` lists no DALL·E model; the
edits endpoint never served dall-e-3), and ``moderation`` is a generation
parameter the edits endpoint does not take (absent from ``ImageEditParams``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dalle3.models import ModelProfile

#: The most reference images one edit takes (the ``openai`` SDK's ``image_edit_params.py``:
#: "You can provide up to 16 images").
MAX_REFERENCES = 16

# Generation parameters that /images/edits does not take (absent from the SDK's ImageEditParams).
EDIT_OMITS: tuple[str, ...] = ("moderation",)


@dataclass(frozen=True)
class EditRules:
    """What one model takes on ``/images/edits`` and how many images per call."""

    edits: bool
    max_n: int
    input_fidelity: tuple[str, ...]  # empty: the parameter is never sent
    markup: bool


def rules_for(profile: ModelProfile) -> EditRules:
    """The edit and batch rules of ``profile``, from its row in the model table."""
    return EditRules(
        edits=profile.gpt_image,
        max_n=profile.max_images,
        input_fidelity=tuple(profile.input_fidelity),
        markup=profile.markup,
    )
