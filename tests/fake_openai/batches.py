"""The fake OpenAI's Batch API: ``/v1/files``, ``/v1/batches`` and ``/v1/files/{id}/content``.

What the app sends is checked against the installed ``openai`` SDK's types, as
:mod:`tests.fake_openai.spec` does for images: ``POST /batches`` against
``BatchCreateParams`` (``tests/sdk_check.py``), the upload's ``purpose`` against
``FilePurpose``, each JSONL row's body by the fake's own image-generation
checks (the real API reports a bad row in the error file). A row of an
``/v1/images/edits`` Batch is the JSON form of an edit: its ``images`` (and
``mask``) name files uploaded here with a purpose other than ``batch``; an
unknown file id fails that row with a 400 (:func:`tests.fake_openai.edits.parts_from_json`),
and the rest is checked as an edit request is. Answers follow the SDK's
``Batch`` and ``FileObject`` shapes; the tests validate them with those models.

A Batch moves one state per ``GET /batches/{id}``: ``validating`` →
``in_progress`` → ``finalizing`` → :attr:`BatchState.plan` (``completed``,
``failed``, ``expired`` or ``cancelled``). A bad input file fails it at
validation, with ``errors``. ``POST .../cancel`` makes it ``cancelling``, then
``cancelled`` with the rows it had done. Rows are answered by the fake's
generation logic (``outcomes`` scripts a row by ``custom_id``) and written in
reverse order, so an app that matches by position is caught.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Mapping, get_args

from openai.types import batch_create_params
from openai.types.file_purpose import FilePurpose

from tests.fake_openai import edits
from tests.fake_openai.answers import success_payload
from tests.fake_openai.handler import Handler, error_payload
from tests.fake_openai.scripting import Outcome
from tests.fake_openai.spec import check_generation
from tests.sdk_check import params_problem

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI

_BATCH = re.compile(r"^/v1/batches/(?P<id>batch_[0-9a-f]{24})(?P<cancel>/cancel)?$")
_FILE = re.compile(r"^/v1/files/(?P<id>file-[0-9a-f]{24})(?P<content>/content)?$")
_ENDPOINTS = ("/v1/images/generations", "/v1/images/edits")
_STEPS = ("validating", "in_progress", "finalizing")


class BatchState:
    """What the fake's Batch API holds; tests may set :attr:`plan` and :attr:`outcomes` at any time."""

    def __init__(self) -> None:
        self.plan = "completed"  # how a Batch ends: completed | failed | expired | cancelled
        self.outcomes: dict[str, Outcome] = {}  # custom_id -> how that row is answered (default success)
        self.files: dict[str, dict[str, Any]] = {}  # id -> FileObject + "_content"
        self.batches: dict[str, dict[str, Any]] = {}
        self.uploads: list[dict[str, Any]] = []  # each POST /files: purpose, filename, content_type, token, lines
        self.edit_rows: list[dict[str, Any]] = []  # each edit row answered: its body
        self.creates: list[dict[str, Any]] = []  # each POST /batches body
        self.retrieves = 0
        self.lock = threading.Lock()


def handle(fake: FakeOpenAI, h: Handler, path: str, raw: bytes, headers: Mapping[str, str]) -> bool:
    """Answer a Batch API request; False when ``path`` is not one (the fake goes on routing)."""
    batch, file = _BATCH.match(path), _FILE.match(path)
    if not (path in ("/v1/files", "/v1/batches") or batch or file):
        return False
    token = fake._bearer(headers)
    if token is None:
        h.send_json(401, _error("You didn't provide an API key.", "invalid_request_error", None, None))
        return True
    state: BatchState = fake.batch_api
    if path == "/v1/files" and h.command == "POST":
        _upload(state, h, headers, raw, token)
    elif path == "/v1/batches" and h.command == "POST":
        _create(state, h, raw)
    elif batch and h.command == "GET" and not batch.group("cancel"):
        _retrieve(fake, state, h, batch.group("id"), token)
    elif batch and h.command == "POST" and batch.group("cancel"):
        _cancel(state, h, batch.group("id"))
    elif file and h.command == "GET":
        _file(state, h, file.group("id"), bool(file.group("content")))
    else:
        h.send_json(404, _error(f"Invalid URL ({h.command} {path})", "invalid_request_error", None, None))
    return True


def _error(message: str, type_: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _upload(state: BatchState, h: Handler, headers: Mapping[str, str], raw: bytes, token: str) -> None:
    parsed = edits.parse_multipart(headers.get("content-type", ""), raw)
    if parsed is None:
        h.send_json(400, _error("Expected a multipart/form-data body.", "invalid_request_error", None, None))
        return
    fields, parts = parsed
    purpose = fields.get("purpose")
    if purpose not in get_args(FilePurpose):
        h.send_json(400, _error(f"Invalid value for 'purpose': {purpose!r}.", "invalid_request_error", "purpose",
                                "invalid_value"))
        return
    uploaded = [p for p in parts if p.name == "file"]
    if len(uploaded) != 1:
        h.send_json(400, _error("Missing required parameter: 'file'.", "invalid_request_error", "file",
                                "missing_required_parameter"))
        return
    part = uploaded[0]
    file_id = f"file-{uuid.uuid4().hex[:24]}"
    obj = {"id": file_id, "object": "file", "bytes": len(part.data), "created_at": int(time.time()),
           "filename": part.filename, "purpose": purpose, "status": "processed"}
    with state.lock:
        state.files[file_id] = {**obj, "_content": part.data, "_type": part.content_type}
        state.uploads.append({"purpose": purpose, "filename": part.filename, "content_type": part.content_type,
                              "token": token, "bytes": len(part.data),
                              "lines": part.data.decode("utf-8", "replace").splitlines() if purpose == "batch" else []})
    h.send_json(200, obj)


def _create(state: BatchState, h: Handler, raw: bytes) -> None:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    problem = params_problem(batch_create_params.BatchCreateParams, body)
    if problem is not None:
        h.send_json(400, _error(problem.message, "invalid_request_error", problem.param, problem.code))
        return
    with state.lock:
        state.creates.append(body)
        source = state.files.get(body["input_file_id"])
    if source is None or source["purpose"] != "batch":
        h.send_json(400, _error(f"Invalid 'input_file_id': '{body['input_file_id']}'. The file must be uploaded "
                                "with purpose 'batch'.", "invalid_request_error", "input_file_id", "invalid_value"))
        return
    rows, problems = _rows(source["_content"], body["endpoint"])
    batch_id = f"batch_{uuid.uuid4().hex[:24]}"
    now = int(time.time())
    batch = {"id": batch_id, "object": "batch", "endpoint": body["endpoint"], "input_file_id": body["input_file_id"],
             "completion_window": body["completion_window"], "status": "validating", "created_at": now,
             "expires_at": now + 24 * 3600, "metadata": body.get("metadata"),
             "request_counts": {"total": 0, "completed": 0, "failed": 0},
             "_rows": rows, "_problems": problems, "_done": 0}
    with state.lock:
        state.batches[batch_id] = batch
    h.send_json(200, _public(batch))


def _rows(content: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input file's rows, and what makes the whole file invalid (as the real validation step reports)."""
    rows, problems, seen = [], [], set()
    for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
        try:
            row = json.loads(line)
        except ValueError:
            problems.append({"code": "invalid_json_line", "line": number, "message": "This line is not valid JSON."})
            continue
        if not isinstance(row, dict) or set(row) != {"custom_id", "method", "url", "body"}:
            problems.append({"code": "invalid_request", "line": number,
                             "message": "Each line needs exactly custom_id, method, url and body."})
        elif row["url"] != endpoint or row["method"] != "POST":
            problems.append({"code": "mismatched_endpoint", "line": number, "param": "url",
                             "message": f"The url of each line must be the Batch's endpoint ({endpoint})."})
        elif not isinstance(row["custom_id"], str) or row["custom_id"] in seen:
            problems.append({"code": "duplicate_custom_id", "line": number, "param": "custom_id",
                             "message": "custom_id must be a string, unique in the file."})
        else:
            seen.add(row["custom_id"])
            rows.append(row)
    return rows, problems


def _public(batch: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _retrieve(fake: FakeOpenAI, state: BatchState, h: Handler, batch_id: str, token: str) -> None:
    with state.lock:
        state.retrieves += 1
        batch = state.batches.get(batch_id)
    if batch is None:
        h.send_json(404, _error(f"No batch found with id '{batch_id}'.", "invalid_request_error", None, None))
        return
    _advance(fake, state, batch, token)
    h.send_json(200, _public(batch))


def _advance(fake: FakeOpenAI, state: BatchState, batch: dict[str, Any], token: str) -> None:
    now = int(time.time())
    status = batch["status"]
    if status == "cancelling":
        _end(fake, state, batch, "cancelled", token, half=True)
        return
    if status not in _STEPS:
        return
    if status == "validating" and batch["_problems"]:
        batch.update(status="failed", failed_at=now, errors={"object": "list", "data": batch["_problems"]})
        return
    if status == "validating":
        batch.update(status="in_progress", in_progress_at=now)
        batch["request_counts"]["total"] = len(batch["_rows"])
    elif status == "in_progress":
        batch.update(status="finalizing", finalizing_at=now)
    else:
        _end(fake, state, batch, state.plan, token, half=state.plan != "completed")


def _cancel(state: BatchState, h: Handler, batch_id: str) -> None:
    with state.lock:
        batch = state.batches.get(batch_id)
    if batch is None:
        h.send_json(404, _error(f"No batch found with id '{batch_id}'.", "invalid_request_error", None, None))
        return
    if batch["status"] not in _STEPS:
        h.send_json(400, _error(f"Cannot cancel a batch with status '{batch['status']}'.", "invalid_request_error",
                                None, None))
        return
    batch.update(status="cancelling", cancelling_at=int(time.time()))
    h.send_json(200, _public(batch))


def _end(fake: FakeOpenAI, state: BatchState, batch: dict[str, Any], status: str, token: str, half: bool) -> None:
    """Answer the rows (all, or the first half for an expired or cancelled Batch) and write the files."""
    rows = batch["_rows"]
    ran = rows[:len(rows) // 2] if half else rows
    output: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for row in ran:
        line = _answer(fake, state, row, token, batch["endpoint"])
        (output if line["response"]["status_code"] == 200 else errors).append(line)
    code = "batch_expired" if status == "expired" else "batch_cancelled"
    for row in rows[len(ran):]:
        errors.append({"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": row["custom_id"], "response": None,
                       "error": {"code": code, "message": f"This request could not be executed ({code})."}})
    now = int(time.time())
    batch.update(status=status, **{f"{status}_at": now})
    batch["request_counts"] = {"total": len(rows), "completed": len(output), "failed": len(errors)}
    for name, lines in (("output_file_id", output), ("error_file_id", errors)):
        if lines:
            content = "".join(json.dumps(line) + "\n" for line in reversed(lines)).encode()
            file_id = f"file-{uuid.uuid4().hex[:24]}"
            with state.lock:
                state.files[file_id] = {"id": file_id, "object": "file", "bytes": len(content), "created_at": now,
                                        "filename": f"{batch['id']}_{name[:-8]}.jsonl", "purpose": "batch_output",
                                        "status": "processed", "_content": content}
            batch[name] = file_id


def _answer(fake: FakeOpenAI, state: BatchState, row: dict[str, Any], token: str, endpoint: str) -> dict[str, Any]:
    body, tokens = row["body"], 0
    request_id = f"req_{uuid.uuid4().hex[:24]}"
    if endpoint == "/v1/images/edits":
        rejection, body, tokens = _edit_row(fake, state, body)
    else:
        rejection = check_generation(token, json.dumps(body).encode(), body, retired_models=fake.retired_models)
    outcome = rejection or state.outcomes.get(row["custom_id"]) or Outcome.success()
    if outcome.kind == "error":
        response = {"status_code": outcome.status, "request_id": request_id,
                    "body": error_payload(outcome.message, outcome.type, outcome.param, outcome.code)}
    else:
        response = {"status_code": 200, "request_id": request_id,
                    "body": success_payload(fake, outcome, body, force_url=False, input_image_tokens=tokens)}
    return {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": row["custom_id"], "response": response,
            "error": None}


def _edit_row(fake: FakeOpenAI, state: BatchState, body: Any) -> tuple[Outcome | None, dict[str, Any], int]:
    """An edit row's refusal (or None), the request as typed values, and its input image tokens."""
    def find(file_id: str) -> edits.Part | None:
        with state.lock:
            stored = state.files.get(file_id)
        if stored is None or stored["purpose"] in ("batch", "batch_output"):
            return None
        return edits.Part("file", stored["filename"], stored.get("_type", "application/octet-stream"),
                               stored["_content"])

    with state.lock:
        state.edit_rows.append(body)
    problem, fields, parts = edits.parts_from_json(body, find)
    if problem is not None:
        return Outcome.error(problem.status, problem.code, problem.message, param=problem.param), {}, 0
    rejection, request, sizes = fake._check_edit(fields, parts)
    return rejection, request, edits.input_image_tokens(sizes)


def _file(state: BatchState, h: Handler, file_id: str, content: bool) -> None:
    with state.lock:
        stored = state.files.get(file_id)
    if stored is None:
        h.send_json(404, _error(f"No such File object: {file_id}", "invalid_request_error", "id", None))
    elif content:
        h.send_bytes(200, stored["_content"], content_type="application/octet-stream")
    else:
        h.send_json(200, _public(stored))
