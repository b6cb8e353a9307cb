"""An edit's inputs: references (up to the API's limit), and a mask or a markup on the first.

Every rule the API states for ``POST /images/edits`` (the ``openai`` SDK's
``types/image_edit_params.py``) is checked here, before any call, with a
sentence a person can act on. The mask and the markup are matched to the
first image *as uploaded* (oriented and scaled by :mod:`dalle3.edits.references`):
one with the same shape is resized to it, one of another shape is refused,
since stretching would move the painted area.

A mask is "transparent where the image may change". Editors paint the other
way round (white strokes on the area to change), so :func:`mask_from_painting`
turns a painting into the API's mask, and an uploaded mask without an alpha
channel is read as such a painting too.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any, Sequence
from typing import Callable

from PIL import Image, ImageChops

from dalle3.files.decode_budget import MAX_PIXELS_PER_CALL
from dalle3.models.edit_rules import rules_for
from dalle3.errors import ValidationError
from dalle3.models import ModelProfile, pricing
from dalle3.edits.references import LONG_EDGE, Reference, decode_oriented, decoded_pixels, open_checked, prepare_all, sha256
from typing import cast
from dalle3.models.edit_rules import MAX_REFERENCES

MASK_MAX_BYTES = 4 * 1024 * 1024  # the SDK: "a valid PNG file, less than 4MB"
_ASPECT_TOLERANCE = 0.01


@dataclass(frozen=True)
class EditInputs:
    """The prepared files of one edit; equal when their sources are (the cache key part)."""

    images: tuple[Reference, ...]
    mask: Reference | None = None
    markup: Reference | None = None
    input_fidelity: str | None = None
    names: tuple[str, ...] = field(default=(), compare=False)  # the references' file names, where known

    def parameters(self) -> dict[str, Any]:
        """What a PNG records of its inputs: content hashes (and file names where known), never the pixels."""
        data: dict[str, Any] = {"references": [r.sha256 for r in self.images]}
        if any(self.names):
            data["reference_names"] = [safe_name(n) for n in self.names]
        if self.mask is not None:
            data["mask"] = self.mask.sha256
        if self.markup is not None:
            data["markup"] = self.markup.sha256
        if self.input_fidelity is not None:
            data["input_fidelity"] = self.input_fidelity
        return data

    def input_tokens(self) -> int:
        """The references' estimated image-input tokens, as every call with them is billed for."""
        return sum(pricing.input_image_tokens(*r.size, self.input_fidelity) for r in self.images)

    def describe(self) -> str:
        """``"edited from 3 references, mask on the first"`` for the status line."""
        count = len(self.images)
        text = f"edited from {count} reference{'s' if count != 1 else ''}"
        if self.mask is not None:
            text += ", mask on the first"
        elif self.markup is not None:
            text += ", markup on the first"
        return text


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def mask_from_painting(layer: Image.Image | bytes) -> bytes:
    """A painted layer -> the API's mask PNG: transparent where painted, opaque black elsewhere.

    Painted means: opaque on a layer that has transparency (Gradio's ImageEditor
    layers), else light (white strokes on black, as mask files are often drawn).
    """
    image = layer if isinstance(layer, Image.Image) else decode_oriented(bytes(layer), "The painted mask")
    image = image.convert("RGBA") if image.mode not in ("RGBA", "RGB", "L") else image
    if image.mode == "RGBA" and cast("tuple[int, int]", image.getchannel("A").getextrema())[0] < 255:
        painted = image.getchannel("A")
    else:
        painted = image.convert("L")
    painted = painted.point(lambda v: 255 if v >= 128 else 0)
    mask = Image.new("RGBA", image.size, (0, 0, 0, 255))
    mask.putalpha(ImageChops.invert(painted))
    return _png(mask)


def markup_from_layer(layer: Image.Image) -> bytes:
    """An editor layer of strokes (RGBA, transparent elsewhere) as the markup PNG the API takes."""
    return _png(layer.convert("RGBA"))


def _match(image: Image.Image, first: Reference, what: str, shown: tuple[int, int]) -> Image.Image:
    """``image`` at the first reference's uploaded size, or a refusal (naming ``shown``, its size as
    uploaded) when its shape differs."""
    if image.size == first.size:
        return image
    (w, h), (fw, fh) = image.size, first.size
    if abs(w / h - fw / fh) > _ASPECT_TOLERANCE * (fw / fh):
        raise ValidationError(
            f"The {what} is {shown[0]}x{shown[1]} but the first image is {first.source_size[0]}x{first.source_size[1]}: "
            f"they must have the same shape. Draw the {what} on the first image, or export it at its size.")
    return image.resize(first.size, Image.Resampling.BILINEAR)


def prepare_mask(data: bytes, first: Reference) -> Reference:
    """The uploaded (or painted) mask as the API wants it: RGBA PNG, first image's size, some of it clear."""
    opened = open_checked(data, "The mask")
    has_alpha = opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info
    image = decode_oriented(data, "The mask", LONG_EDGE)
    if not has_alpha or image.mode != "RGBA":
        image = Image.open(io.BytesIO(mask_from_painting(image)))
    alpha = _match(image, first, "mask", opened.size).getchannel("A").point(lambda v: 255 if v >= 128 else 0)
    if alpha.getextrema()[0] != 0:
        raise ValidationError("The mask marks nothing to change: paint (or make transparent) the area to edit.")
    if alpha.getextrema()[1] == 0:
        raise ValidationError("The mask covers the whole image; to change everything, leave the mask out.")
    mask = Image.new("RGBA", first.size, (0, 0, 0, 255))
    mask.putalpha(alpha)
    out = _png(mask)
    if len(out) >= MASK_MAX_BYTES:
        raise ValidationError("The mask is too detailed (over 4 MB as a PNG); paint simpler shapes.")
    return Reference(sha256(bytes(data)), out, "image/png", first.size, opened.size, "mask.png")


def prepare_markup(data: bytes, first: Reference) -> Reference:
    """Strokes on a transparent layer, at the first image's size, as an RGBA PNG."""
    opened = open_checked(data, "The markup")
    if not (opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info):
        raise ValidationError("The markup must be a transparent PNG with strokes on it (it has no transparency).")
    image = _match(decode_oriented(data, "The markup", LONG_EDGE).convert("RGBA"), first, "markup", opened.size)
    low, high = image.getchannel("A").getextrema()
    if high == 0:
        raise ValidationError("The markup is empty: draw arrows, circles or words on it first.")
    if low == 255:
        raise ValidationError("The markup has no transparent pixels: draw on a transparent layer.")
    return Reference(sha256(bytes(data)), _png(image), "image/png", first.size, opened.size, "markup.png")


def measure(images: Sequence[bytes], mask: bytes | None = None,
            markup: bytes | None = None) -> tuple[tuple[int, int], ...]:
    """The references' sizes, read from the headers; refused when the set would decode too many pixels.

    Nothing is decoded: each header is read (a pixel bomb is refused there), and the pixels
    preparing would decode (:func:`dalle3.edits.references.decoded_pixels`; a mask or markup is always
    decoded) are summed against :data:`dalle3.files.decode_budget.MAX_PIXELS_PER_CALL`.
    """
    sizes, total = [], 0
    for i, data in enumerate(images, 1):
        sizes.append(open_checked(data, f"Reference image {i}").size)
        total += decoded_pixels(data, f"Reference image {i}")
    for extra, what in ((mask, "The mask"), (markup, "The markup")):
        if extra is not None:
            width, height = open_checked(extra, what).size
            total += width * height
    if total > MAX_PIXELS_PER_CALL:
        raise ValidationError(
            f"These images would take {total / 1e6:.0f} million pixels to open; one edit may open at most "
            f"{MAX_PIXELS_PER_CALL // 1_000_000} million. Scale the large ones down (2048 pixels on the long "
            "side is all the API looks at), or use fewer.")
    return tuple(sizes)


_NAME_UNSAFE = re.compile(r"[^\w .()+-]")
NAME_MAX = 80


def safe_name(name: str) -> str:
    """A reference's file name as recorded and shown: its last part, plain characters, bounded."""
    return _NAME_UNSAFE.sub("", str(name).replace("\\", "/").rsplit("/", 1)[-1])[:NAME_MAX]


def check_rules(profile: ModelProfile, count: int, *, mask: bool = False, markup: bool = False,
                input_fidelity: str | None = None) -> str | None:
    """Refuse an edit of ``count`` references (with a mask or markup) that ``profile`` cannot make;
    return the input fidelity to send (None: leave it out). Reads no file: a job checks each of
    its models with it before its references are prepared once.
    """
    rules = rules_for(profile)
    if not rules.edits:
        raise ValidationError(f"{profile.id} cannot edit images. Choose a GPT Image model, such as gpt-image-2.")
    if not count:
        what = "a mask" if mask else "a markup" if markup else "an edit"
        raise ValidationError(f"Add an image to edit: {what} needs the image it applies to.")
    if count > MAX_REFERENCES:
        raise ValidationError(f"{count} images given; an edit takes at most {MAX_REFERENCES}. Remove "
                              f"{count - MAX_REFERENCES}.")
    if mask and markup:
        raise ValidationError("Use a mask or a markup, not both: the API takes one or the other.")
    if markup and not rules.markup:
        raise ValidationError(f"{profile.id} does not take a markup; GPT Image 2.5 and later do. "
                              "Use a mask instead, or switch model.")
    fidelity = None if input_fidelity in (None, "") else input_fidelity
    if fidelity is not None and fidelity not in rules.input_fidelity:
        allowed = ", ".join(rules.input_fidelity)
        raise ValidationError(f"Input fidelity {fidelity!r} is not available for {profile.id}"
                              + (f"; choose {allowed}." if allowed else "; leave it empty."))
    return fidelity


def prepare_edit(profile: ModelProfile, images: Sequence[bytes], mask: bytes | None = None,
                 markup: bytes | None = None, input_fidelity: str | None = None,
                 before_decoding: Callable[[tuple[tuple[int, int], ...]], None] | None = None,
                 names: Sequence[str] = ()) -> EditInputs:
    """Check the set against ``profile``'s rules, measure it, then prepare every file; raises ValidationError.

    ``before_decoding`` is called with the references' sizes (from their headers) once the
    rules and the pixel bound hold and before any pixel is decoded: the place to refuse a
    call nobody may pay for (it raises to stop). ``names`` are the references' file names,
    recorded with the edit so a missing one can be named.
    """
    fidelity = check_rules(profile, len(images), mask=mask is not None, markup=markup is not None,
                           input_fidelity=input_fidelity)
    images = [bytes(i) for i in images]
    sizes = measure(images, None if mask is None else bytes(mask), None if markup is None else bytes(markup))
    if before_decoding is not None:
        before_decoding(sizes)
    refs = prepare_all(images)
    return EditInputs(
        images=refs,
        mask=prepare_mask(bytes(mask), refs[0]) if mask is not None else None,
        markup=prepare_markup(bytes(markup), refs[0]) if markup is not None else None,
        input_fidelity=fidelity,
        names=tuple(names)[:len(refs)],
    )
