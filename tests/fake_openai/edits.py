"""The fake's ``POST /v1/images/edits``: multipart parsing and the checks the SDK documents.

Kept apart from :mod:`tests.fake_openai.spec` (the server routes here) because the rules
come from another source: the vendored OpenAPI extract covers generations
only, so edits are checked against the installed ``openai`` SDK's own
``types/image_edit_params.py`` (field names and every ``Literal`` value are
read from its TypedDict at run time, so the fake cannot drift from the SDK)
plus the rules its docstrings state:

* ``image`` (one part) or ``image[]`` (repeated, as the SDK sends a list):
  1 to 16 files, each PNG, WebP or JPEG and under 50 MB;
* ``mask``: a PNG under 4 MB with an alpha channel, the first image's size;
* ``markup``: a PNG with transparent pixels, the first image's size, only on
  GPT Image 2.5 and later, never with ``mask``;
* ``input_fidelity``: high|low on gpt-image-1.5, only low on gpt-image-1-mini,
  refused (unknown parameter) on the gpt-image-2 family;
* ``n`` 1..10; the generation rules for quality, size, background...

A Batch row of edits is the JSON form of the same endpoint (:func:`parts_from_json`):
``images`` (and ``mask``) name files by ``file_id`` (uploaded with a purpose other than
``batch``) or carry a data URL as ``image_url``; the body's keys are checked against the
SDK's types (``tests/sdk_check.py``), then the files go through the same rules as parts.

Fake-specific: a request body over :attr:`FakeOpenAI.max_body_bytes` is
answered 413 (as a gateway would); input image tokens in ``usage`` are
``65 + 129 * ceil(w/512) * ceil(h/512)`` per uploaded image, unscaled.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import functools
import io
import math
import typing
from dataclasses import dataclass
from typing import Any, Callable

from PIL import Image

from tests.sdk_check import edit_json_params_problem

#: The SDK's ImageModel lists this alias beside the gpt-image ids; its input rules are theirs.
GPT_IMAGE_ALIASES = ("chatgpt-image-latest",)


def is_gpt_image(model: str) -> bool:
    """A GPT image model: a ``gpt-image`` id or one of the SDK's aliases."""
    return model.startswith("gpt-image") or model in GPT_IMAGE_ALIASES


MAX_IMAGES = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
MARKUP_PREFIXES = ("gpt-image-2.5", "gpt-image-2.6")
FIDELITY = {"gpt-image-1.5": ("high", "low"), "gpt-image-1-mini": ("low",), "gpt-image-1": ("high", "low")}


@dataclass(frozen=True)
class Part:
    """One file part of a multipart request."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Problem:
    """Why a request is refused: what the fake answers (400 unless ``status`` says otherwise)."""

    param: str | None
    message: str
    code: str | None = "invalid_value"
    status: int = 400


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], list[Part]] | None:
    """Text fields and file parts of a ``multipart/form-data`` body; None when it is not one."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        return None
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        return None
    fields: dict[str, str] = {}
    files: list[Part] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = payload.decode("utf-8", "replace")
        else:
            files.append(Part(name, filename, part.get_content_type(), payload))
    return fields, files


def _literals(hint: Any) -> tuple[str, ...]:
    """Every ``Literal`` string inside a type hint (through Optional, Union, Required)."""
    if typing.get_origin(hint) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(hint))
    return tuple(v for arg in typing.get_args(hint) for v in _literals(arg))


@functools.lru_cache(maxsize=1)
def sdk_fields() -> dict[str, tuple[str, ...]]:
    """The SDK's edit parameters: name -> allowed literal values (empty: free-form)."""
    from openai.types import image_edit_params

    hints = typing.get_type_hints(image_edit_params.ImageEditParamsNonStreaming, include_extras=True)
    return {name: _literals(hint) for name, hint in hints.items()}


def _open(part: Part) -> Image.Image | None:
    try:
        image = Image.open(io.BytesIO(part.data))
        image.load()
        return image
    except Exception:  # noqa: BLE001 - anything Pillow cannot read is "not an image" to the API
        return None


def _transparent(image: Image.Image) -> tuple[bool, bool]:
    """(has alpha channel, has a fully transparent pixel)."""
    if image.mode != "RGBA":
        if image.mode in ("LA", "PA", "P") and ("transparency" in image.info or image.mode != "P"):
            image = image.convert("RGBA")
        else:
            return False, False
    return True, image.getchannel("A").getextrema()[0] == 0


def check_edit(fields: dict[str, str], files: list[Part]) -> tuple[Problem | None, dict[str, Any], list[tuple[int, int]]]:
    """(problem or None, the request as typed values, the uploaded images' sizes)."""
    problem, request = _typed_fields(fields)
    if problem is not None:
        return problem, {}, []
    model = str(request.get("model") or "")
    images = [p for p in files if p.name in ("image", "image[]")]
    unknown = [p.name for p in files if p.name not in ("image", "image[]", "mask", "markup")]
    if unknown:
        return Problem(unknown[0], f"Unknown parameter: '{unknown[0]}'.", "unknown_parameter"), request, []
    problem, sizes = _check_images(images)
    if problem is not None:
        return problem, request, []
    by_name = {p.name: p for p in files}
    problem = _check_mask_and_markup(by_name, model, sizes[0]) or _check_fidelity(request, model)
    return problem, request, sizes


def _typed_fields(fields: dict[str, str]) -> tuple[Problem | None, dict[str, Any]]:
    """The text fields against the SDK's names and values, numbers as numbers; the model and ``n``."""
    known = sdk_fields()
    for name in fields:
        if name not in known:
            return Problem(name, f"Unknown parameter: '{name}'.", "unknown_parameter"), {}
        if known[name] and fields[name] not in known[name]:
            return Problem(name, f"Invalid value: '{fields[name]}'. Supported values are: "
                           + ", ".join(f"'{v}'" for v in known[name]) + "."), {}
    request: dict[str, Any] = dict(fields)
    for name in ("n", "output_compression", "partial_images"):
        if name in request:
            if not request[name].isdigit():
                return Problem(name, f"Invalid type for '{name}': expected an integer.", "invalid_type"), {}
            request[name] = int(request[name])
    if "prompt" not in request:
        return Problem("prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter"), {}
    if request.get("stream") == "true":
        return Problem("stream", "Streaming is not implemented by this fake.", "unsupported_by_fake"), {}
    model = str(request.get("model") or "")
    if not is_gpt_image(model):
        return Problem("model", f"Invalid value: '{model or 'dall-e-2'}'. Image edits need a GPT image model."), {}
    n = request.get("n", 1)
    if not 1 <= n <= 10:
        return Problem("n", f"Invalid 'n': expected a value between 1 and 10, but got {n} instead."), {}
    return None, request


def _check_images(images: list[Part]) -> tuple[Problem | None, list[tuple[int, int]]]:
    """1 to 16 images, each a PNG, JPEG or WebP under 50 MB; their sizes."""
    if not images:
        return Problem("image", "Missing required parameter: 'image'.", "missing_required_parameter"), []
    if len(images) > MAX_IMAGES:
        return Problem("image", f"Too many images: at most {MAX_IMAGES}, got {len(images)}."), []
    sizes = []
    for part in images:
        image = _open(part)
        if image is None or image.format not in IMAGE_FORMATS:
            return Problem("image", f"Invalid image file '{part.filename}': supported formats are "
                           "'image/png', 'image/jpeg' and 'image/webp'.", "invalid_image_format"), []
        if len(part.data) >= MAX_IMAGE_BYTES:
            return Problem("image", f"Image '{part.filename}' is larger than 50MB.", "image_too_large"), []
        sizes.append(image.size)
    return None, sizes


def _check_mask_and_markup(by_name: dict[str, Part], model: str, first: tuple[int, int]) -> Problem | None:
    """A mask (PNG, alpha, the first image's size) or a markup (2.5 and later, transparent pixels), not both."""
    if "mask" in by_name and "markup" in by_name:
        return Problem("markup", "'markup' cannot be combined with 'mask'.")
    if "mask" in by_name:
        mask = _open(by_name["mask"])
        if mask is None or mask.format != "PNG" or len(by_name["mask"].data) >= MAX_MASK_BYTES:
            return Problem("mask", "Invalid mask: it must be a PNG file under 4MB.", "invalid_mask")
        if not _transparent(mask)[0]:
            return Problem("mask", "Invalid mask: it must have an alpha channel.", "invalid_mask")
        if mask.size != first:
            return Problem("mask", f"Invalid mask: its size {mask.size[0]}x{mask.size[1]} does not match the "
                           f"image's {first[0]}x{first[1]}.", "invalid_mask")
    if "markup" in by_name:
        if not model.startswith(MARKUP_PREFIXES):
            return Problem("markup", f"'markup' is not supported for model '{model}'.", "unknown_parameter")
        markup = _open(by_name["markup"])
        if markup is None or markup.format != "PNG" or not _transparent(markup)[1]:
            return Problem("markup", "Invalid markup: it must be a PNG with transparent pixels.")
        if markup.size != first:
            return Problem("markup", "Invalid markup: its size does not match the first image's.")
    return None


def _check_fidelity(request: dict[str, Any], model: str) -> Problem | None:
    """``input_fidelity`` only where the SDK allows it, with the values it allows there."""
    if "input_fidelity" not in request:
        return None
    allowed = next((v for k, v in FIDELITY.items() if model == k), ())
    if not allowed:
        return Problem("input_fidelity", f"'input_fidelity' is not supported for model '{model}'.", "unknown_parameter")
    if request["input_fidelity"] not in allowed:
        return Problem("input_fidelity", f"Invalid value: '{request['input_fidelity']}'. Supported values are: "
                       + ", ".join(f"'{v}'" for v in allowed) + ".")
    return None


def input_image_tokens(sizes: list[tuple[int, int]]) -> int:
    """The fake's image-input tokens (see the module docstring)."""
    return sum(65 + 129 * math.ceil(w / 512) * math.ceil(h / 512) for w, h in sizes)


def _reference(item: dict[str, str], name: str, find: Callable[[str], Part | None]) -> Part | Problem:
    """The file one ``{"file_id"}`` / ``{"image_url"}`` object names, as a part called ``name``."""
    if "file_id" in item:
        found = find(item["file_id"])
        if found is None:
            return Problem(name.rstrip("[]"), f"Invalid file id '{item['file_id']}': no such file was uploaded "
                           "for this purpose (upload images with purpose 'user_data' or 'vision').")
        return Part(name, found.filename, found.content_type, found.data)
    url = item["image_url"]
    head, _, data = url.partition(";base64,")
    try:
        decoded = base64.b64decode(data, validate=True) if head.startswith("data:image/") else None
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is None:
        return Problem(name.rstrip("[]"), "This fake takes image_url only as a data:image/...;base64 URL.",
                       "unsupported_by_fake")
    return Part(name, "image_url", head[5:], decoded)


def parts_from_json(body: Any, find: Callable[[str], Part | None]) -> tuple[Problem | None, dict[str, str], list[Part]]:
    """An edit's JSON body as the multipart form's (text fields, file parts), for :func:`check_edit`.

    ``find`` gives an uploaded file by id (None when there is none the edit may use).
    """
    problem = edit_json_params_problem(body)
    if problem is not None:
        return Problem(problem.param, problem.message, problem.code), {}, []
    parts: list[Part] = []
    named = [(item, "image[]") for item in body["images"]] + ([(body["mask"], "mask")] if "mask" in body else [])
    for item, name in named:
        part = _reference(item, name, find)
        if isinstance(part, Problem):
            return part, {}, []
        parts.append(part)
    fields = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in body.items()
              if k not in ("images", "mask") and v is not None}
    return None, fields, parts
