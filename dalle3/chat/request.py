"""The body of one ``POST /responses`` turn: the mainline model, the image tool, the chain.

The image tool's settings are the studio's own controls, checked by the same
rules (:func:`dalle3.params.validate` for quality, size, background, moderation,
complexity, format and compression; :func:`dalle3.edits.inputs.prepare_edit` for input
images, the mask and input fidelity), so a value the studio refuses is refused
here with the same sentence. Images travel as ``data:`` URLs in ``input_image``
parts; a mask as the tool's ``input_image_mask``.

A turn makes at most one image (``max_tool_calls`` 1), and the mainline model's
own output is bounded (``max_output_tokens``): both bound what the spend cap
must reserve.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from dalle3.chat.models import is_mainline
from dalle3.edits.inputs import EditInputs, prepare_edit
from dalle3.errors import ValidationError
from dalle3.params import GenerationRequest, profile_for, request_body, validate

ACTIONS = ("auto", "generate", "edit")
MAX_PREVIEWS = 3
MAX_OUTPUT_TOKENS = 8000  # the mainline model's answer and reasoning; a turn's text is short
MAX_TEXT = 32000  # the image tool's prompt limit; the turn's text may become its prompt
DEFAULT_IMAGE_MODEL = "gpt-image-2.6-sunburst"  # the SDK's default for the image_generation tool
# Keys of an images-API body that the tool does not take (the prompt comes from the conversation).
_NOT_TOOL_KEYS = ("prompt", "n", "response_format", "style", "safety_identifier")


@dataclass(frozen=True)
class ToolSettings:
    """The image tool's settings for a conversation, changeable per turn ("" = the model's default)."""

    image_model: str = DEFAULT_IMAGE_MODEL
    quality: str = ""
    size: str = ""
    background: str = ""
    moderation: str = ""
    complexity: str = ""
    output_format: str = ""
    output_compression: str | int | None = None
    input_fidelity: str = ""
    action: str = "auto"
    partial_images: int = 1

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the conversation file."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Any) -> ToolSettings:
        """Settings read back from a conversation file; unknown keys and wrong types are dropped."""
        if not isinstance(data, dict):
            return cls()
        kept: dict[str, Any] = {k: v for k, v in data.items() if k in cls.__dataclass_fields__
                and isinstance(v, (str, int)) and not isinstance(v, bool)}
        try:
            return cls(**kept)
        except TypeError:
            return cls()


@dataclass(frozen=True)
class Turn:
    """One turn as sent: the checked image request (its prompt is the turn's text) and the inputs."""

    chat_model: str
    text: str
    image: GenerationRequest
    settings: ToolSettings
    inputs: EditInputs | None = None
    previous_response_id: str | None = None
    safety_identifier: str | None = field(default=None, repr=False)

    @property
    def previews(self) -> int:
        return max(0, min(MAX_PREVIEWS, self.settings.partial_images))


def check_turn(*, chat_model: str, text: Any, settings: ToolSettings, images: tuple[bytes, ...] = (),
               mask: bytes | None = None, previous_response_id: str | None = None,
               safety_identifier: str | None = None) -> Turn:
    """Check a turn before any call; raises :class:`dalle3.errors.ValidationError` with a sentence."""
    if not is_mainline(chat_model):
        raise ValidationError(f"{str(chat_model)[:64]!r} is not a mainline model that can use the image tool; "
                              "choose one such as gpt-5.4-mini.")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("Write something first: the turn is empty.")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"The turn has {len(text):,} characters; at most {MAX_TEXT:,}.")
    if settings.action not in ACTIONS:
        raise ValidationError(f"Action {str(settings.action)[:20]!r} is not one of {', '.join(ACTIONS)}.")
    profile = profile_for(settings.image_model)
    if profile.billing == "image":
        raise ValidationError(f"{profile.id} is not an image tool model; choose a GPT Image model.")
    image = validate(text, quality=settings.quality, size=settings.size, model=profile.id,
                     extras={"background": settings.background, "moderation": settings.moderation,
                             "complexity": settings.complexity},
                     output_format=settings.output_format, output_compression=settings.output_compression,
                     safety_identifier=safety_identifier)
    inputs = None
    if images or mask is not None:
        inputs = prepare_edit(profile, list(images), mask=mask, input_fidelity=settings.input_fidelity or None)
    elif settings.input_fidelity and settings.input_fidelity not in profile.input_fidelity:
        raise ValidationError(f"Input fidelity is not a setting of {profile.id}; leave it empty.")
    return Turn(chat_model=chat_model, text=text, image=image, settings=settings, inputs=inputs,
                previous_response_id=previous_response_id, safety_identifier=safety_identifier)


def tool(turn: Turn, streaming: bool) -> dict[str, Any]:
    """The ``image_generation`` tool entry: the studio's parameters for the image model, action, mask."""
    profile = profile_for(turn.image.model)
    entry: dict[str, Any] = {"type": "image_generation"}
    entry.update((k, v) for k, v in request_body(turn.image, profile).items() if k not in _NOT_TOOL_KEYS)
    entry["action"] = turn.settings.action
    if streaming and turn.previews:
        entry["partial_images"] = turn.previews
    if turn.inputs is not None:
        if turn.inputs.input_fidelity:
            entry["input_fidelity"] = turn.inputs.input_fidelity
        if turn.inputs.mask is not None:
            entry["input_image_mask"] = {"image_url": data_url(turn.inputs.mask.data, turn.inputs.mask.mime)}
    return entry


def body(turn: Turn, streaming: bool) -> dict[str, Any]:
    """The JSON body of ``POST /responses`` for ``turn`` (``stream`` only when ``streaming``)."""
    content: list[dict[str, Any]] = [{"type": "input_text", "text": turn.text}]
    for ref in turn.inputs.images if turn.inputs else ():
        content.append({"type": "input_image", "image_url": data_url(ref.data, ref.mime), "detail": "auto"})
    payload: dict[str, Any] = {
        "model": turn.chat_model,
        "input": [{"role": "user", "content": content}],
        "tools": [tool(turn, streaming)],
        "tool_choice": "auto",
        "max_tool_calls": 1,
        "max_output_tokens": MAX_OUTPUT_TOKENS,
        "store": True,  # the next turn continues from this one by its id
    }
    if turn.previous_response_id:
        payload["previous_response_id"] = turn.previous_response_id
    if turn.safety_identifier:
        payload["safety_identifier"] = turn.safety_identifier
    if streaming:
        payload["stream"] = True
    return payload


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
