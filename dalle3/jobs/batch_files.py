"""A Batch's files: the JSONL of requests going up, the output and error files coming back.

Both directions stream: the input is written a row at a time, and a result
file (up to gigabytes of base64 images) is read a line at a time, each row's
images saved with that row's parameters as soon as its line is read. Rows are
matched by ``custom_id``, never by order (the Batch API does not keep it).

A job of edits goes to ``/v1/images/edits`` in the JSON form of that endpoint: each
row's body names the references by file id (``"images": [{"file_id": ...}]``, and
``"mask": {"file_id": ...}``), the files uploaded once before the JSONL is written
(:func:`dalle3.jobs.edit_job.upload`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from dalle3 import errors
from dalle3.models import pricing
from dalle3.http.answers import from_status
from dalle3.http.client import ApiImage
from dalle3.errors import DalleError
from dalle3.jobs.spec import EDITS as EDITS, GENERATIONS as GENERATIONS, JobRow  # the endpoints: spec owns them
from dalle3.files.metadata import image_format
from dalle3.models.table import BATCH_PRICE_FACTOR
from dalle3.params import GenerationRequest, profile_for, request_body
from dalle3.models.pricing import Price
from dalle3.results import OPENAI
from dalle3.studio import Studio

MAX_LINE_BYTES = 1024 * 1024 * 1024  # one row: up to 10 large images in base64
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class BatchLine:
    """One line of a result file: a row's answer ``body`` (status 200), or the plain reason it failed."""

    custom_id: str
    body: dict[str, Any] | None
    error: str | None
    request_id: str | None = None


def write_input(rows: Iterable[JobRow], path: Path, endpoint: str = GENERATIONS, *,
                files: Mapping[str, Any] | None = None) -> int:
    """The Batch's input file: one ``{custom_id, method, url, body}`` line per row; returns its row count.

    ``files``: for a job of edits, the ``images`` (and ``mask``) parts naming uploaded files, in every body.
    """
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            line = {"custom_id": row.custom_id, "method": "POST", "url": endpoint,
                    "body": {**request_body(row.request, profile_for(row.request.model)), **(files or {})}}
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def read_lines(path: Path, base_url: str) -> Iterator[BatchLine]:
    """Every row of an output or error file, a line at a time (a line too long is reported, not read)."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES)
            if not raw:
                return
            number += 1
            if not raw.endswith(b"\n") and len(raw) >= MAX_LINE_BYTES:
                while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                yield BatchLine(f"line-{number}", None, "The answer for this row was larger than 1 GB; skipped.")
                continue
            if raw.strip():
                line = _parse(raw, number, base_url)
                if line is not None:
                    yield line


def _parse(raw: bytes, number: int, base_url: str) -> BatchLine | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None  # not a row: nothing to match it to
    custom_id = data.get("custom_id") if isinstance(data, dict) else None
    if not isinstance(custom_id, str):
        return None
    response = data.get("response") if isinstance(data.get("response"), dict) else {}
    rid = response.get("request_id") if isinstance(response.get("request_id"), str) else None
    status = response.get("status_code")
    body = response.get("body") if isinstance(response.get("body"), dict) else None
    if status == 200 and body is not None and isinstance(body.get("data"), list):
        return BatchLine(custom_id, body, None, rid)
    return BatchLine(custom_id, None, row_error(data, status, body, base_url), rid)


def row_error(data: Mapping[str, Any], status: Any, body: Mapping[str, Any] | None, base_url: str) -> str:
    """A failed row's reason in plain words: the API's error for it, or the Batch's (expired, cancelled)."""
    given = data.get("error")
    line_error: dict[str, Any] = given if isinstance(given, dict) else {}
    code = line_error.get("code")
    if code == "batch_expired":
        return "The Batch's 24 hours ran out before this request ran; it was not billed. Run it again."
    if code == "batch_cancelled":
        return "The Batch was cancelled before this request ran; it was not billed."
    said = body.get("error") if body is not None else None
    api_error: dict[str, Any] | None = said if isinstance(said, dict) else None
    if isinstance(status, int) and status != 200 and api_error is not None:
        return from_status(status, api_error, request_id=None, base_url=base_url, model=None, attempts=1).user_message
    message = errors.scrub(str(line_error.get("message") or (api_error or {}).get("message") or ""))[:_MAX_MESSAGE]
    return f"This request failed in the Batch: {message or 'no reason given'}."


def row_cost(request: GenerationRequest, usage: Mapping[str, Any] | None, images: int, input_tokens: int = 0) -> Price:
    """The row's bill at Batch prices: its ``usage`` where there is one, else the table's figure (and
    ``input_tokens`` of reference images)."""
    full = pricing.charged(profile_for(request.model), request.quality, request.size, usage, images, input_tokens)
    return Price(full.usd * BATCH_PRICE_FACTOR, full.estimate)


def save_line(studio: Studio, line: BatchLine, request: GenerationRequest,
              tags: Mapping[str, Any], input_tokens: int = 0) -> tuple[tuple[Path, ...], Price]:
    """Save every image of a successful row with the row's parameters and ``tags`` (job, row, batch, and
    for an edit its references as a single edit records them)."""
    assert line.body is not None
    fmt = request.output_format or "png"
    images = []
    for item in line.body["data"][:10]:
        encoded = item.get("b64_json") if isinstance(item, dict) else None
        try:
            image = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else b""
        except (binascii.Error, ValueError):
            image = b""
        if image_format(image) != fmt:
            raise errors.BadResponseError(f"The Batch sent something that is not a {fmt.upper()} image for this "
                                          "row.", request_id=line.request_id)
        images.append(image)
    if not images:
        raise errors.BadResponseError("The Batch answered this row without an image.", request_id=line.request_id)
    usage = line.body.get("usage") if isinstance(line.body.get("usage"), dict) else None
    cost = row_cost(request, usage, len(images), input_tokens)
    revised = line.body["data"][0].get("revised_prompt") if isinstance(line.body["data"][0], dict) else None
    answer = ApiImage(images[0], revised if isinstance(revised, str) else None, line.request_id, usage, 1,
                      others=tuple(images[1:]))
    parameters = Studio.parameters_for(request, answer, OPENAI, Price(cost.usd / len(images), cost.estimate))
    parameters.update(tags)
    paths = []
    for index, image in enumerate(images):
        try:
            paths.append(studio.save(image, request, parameters, index).path)
        except ValueError as exc:  # metadata could not be embedded: the image is not what it claims
            raise errors.BadResponseError(f"An image of this row could not be saved ({exc}).") from None
    return tuple(paths), cost


def describe(exc: Exception) -> str:
    """Why a row's images were not saved, in plain words."""
    if isinstance(exc, DalleError):
        return exc.user_message
    if isinstance(exc, OSError):
        return f"This row's images could not be saved ({exc.strerror or type(exc).__name__}). Free some disk space."
    return f"This row could not be saved ({type(exc).__name__})."
