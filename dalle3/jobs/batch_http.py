"""The OpenAI Batch API over the app's HTTP session: ``/files`` and ``/batches``.

The same ``requests.Session`` as image calls (:class:`dalle3.http.client.ImagesClient`),
the key only in the ``Authorization`` header to the configured base URL, and
every failure mapped by :func:`dalle3.http.answers.from_status` to a sentence for
people. A result file (``GET /files/{id}/content``) can be gigabytes: it is
written to disk in pieces as it arrives, never held whole.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests

from dalle3 import errors
from dalle3.http import body, limits
from dalle3.http.answers import error_fields, from_status, network_failure
from dalle3.http.client import ImagesClient
from dalle3.models.table import BATCH_COMPLETION_WINDOW

_JSON_MAX_BYTES = 1024 * 1024  # a batch or file object is a few hundred bytes
_READ_S = 120.0
_PIECE = 1024 * 1024
_ID = 128  # longest id believed from the server


class BatchHttp:
    """Thin calls; each returns the API's JSON object or raises :class:`dalle3.errors.DalleError`."""

    def __init__(self, client: ImagesClient) -> None:
        self.client = client
        self.settings = client.settings
        self.session = client.session

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url}{path}"

    def _headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    def _send(self, method: str, path: str, api_key: str, **kw: Any) -> requests.Response:
        try:
            return self.session.request(method, self._url(path), headers=self._headers(api_key), stream=True,
                                        timeout=(self.settings.connect_timeout_s, _READ_S), **kw)
        except requests.RequestException as exc:
            raise network_failure(exc, self.settings.base_url, read_s=_READ_S, attempts=1, billable=False) from None

    def _json(self, response: requests.Response) -> dict[str, Any]:
        lim = limits.CallLimits(self.settings.connect_timeout_s, _READ_S, _READ_S * 2, _JSON_MAX_BYTES, _JSON_MAX_BYTES)
        with response:
            try:
                raw = body.read_all(response, lim, time.monotonic() + lim.deadline_s)
            except body.BodyFailure:
                raise errors.BadResponseError("The Batch API's answer broke off or was too large. Try again.",
                                              http_status=response.status_code) from None
        self._raise_for(response, raw)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str) or len(payload["id"]) > _ID:
            raise errors.BadResponseError("The Batch API's answer was not the JSON it should be. Check "
                                          "OPENAI_BASE_URL.", http_status=response.status_code)
        return payload

    def _raise_for(self, response: requests.Response, raw: bytes) -> None:
        status = response.status_code
        if status == 200:
            return
        rid = response.headers.get("x-request-id")
        if status == 404 and not error_fields(raw).get("code"):
            raise errors.BadRequestError(
                f"{self.settings.base_url_shown} has no Batch API (HTTP 404 on {urlpath(response)}). Batches need "
                "api.openai.com or a server that offers /files and /batches; run the job now instead.",
                http_status=404, request_id=rid)
        raise from_status(status, error_fields(raw), request_id=rid, base_url=self.settings.base_url, model=None,
                          attempts=1)

    def upload(self, path: Path, api_key: str) -> dict[str, Any]:
        """``POST /files`` with ``purpose=batch``: the JSONL of a job's requests."""
        with open(path, "rb") as handle:
            return self._upload((path.name, handle, "application/jsonl"), "batch", api_key)

    def upload_input(self, name: str, data: bytes, mime: str, api_key: str) -> dict[str, Any]:
        """``POST /files`` with ``purpose=user_data``: an image a job of edits names by its file id in every row."""
        return self._upload((name, data, mime), "user_data", api_key)

    def _upload(self, file: tuple[str, Any, str], purpose: str, api_key: str) -> dict[str, Any]:
        return self._json(self._send("POST", "/files", api_key, data={"purpose": purpose}, files={"file": file}))

    def create(self, input_file_id: str, endpoint: str, api_key: str, metadata: dict[str, str]) -> dict[str, Any]:
        """``POST /batches`` over an uploaded file, within the 24-hour window."""
        return self._json(self._send("POST", "/batches", api_key, json={
            "input_file_id": input_file_id, "endpoint": endpoint, "completion_window": BATCH_COMPLETION_WINDOW,
            "metadata": metadata}))

    def retrieve(self, batch_id: str, api_key: str) -> dict[str, Any]:
        return self._json(self._send("GET", f"/batches/{_safe(batch_id)}", api_key))

    def cancel(self, batch_id: str, api_key: str) -> dict[str, Any]:
        return self._json(self._send("POST", f"/batches/{_safe(batch_id)}/cancel", api_key))

    def download(self, file_id: str, dest: Path, api_key: str) -> int:
        """``GET /files/{id}/content`` to ``dest``, a piece at a time; returns the bytes written."""
        response = self._send("GET", f"/files/{_safe(file_id)}/content", api_key)
        with response:
            if response.status_code != 200:
                self._raise_for(response, response.raw.read(_JSON_MAX_BYTES, decode_content=True))
            tmp = dest.with_name(dest.name + ".part")
            written = 0
            try:
                with open(tmp, "wb") as out:
                    written = _copy(response, out)
                os.replace(tmp, dest)
            except requests.RequestException:
                raise errors.BadResponseError("The Batch's result file broke off while it was downloaded; it is "
                                              "fetched again on the next check.") from None
            except OSError as exc:
                raise errors.BadResponseError(f"The Batch's result file could not be written to the outputs folder "
                                              f"({exc.strerror or type(exc).__name__}). Free some disk space; it "
                                              "is fetched again on the next check.") from None
            finally:
                if tmp.exists():
                    tmp.unlink()
        return written


def _copy(response: requests.Response, out: BinaryIO) -> int:
    written = 0
    for piece in response.iter_content(_PIECE):
        out.write(piece)
        written += len(piece)
    return written


def _safe(identifier: str) -> str:
    """An id as a path segment: OpenAI's ids are letters, digits, ``_`` and ``-``."""
    if not identifier or len(identifier) > _ID or not all(c.isalnum() or c in "_-" for c in identifier):
        raise errors.BadResponseError("The Batch API sent an id this app does not trust. Check OPENAI_BASE_URL.")
    return identifier


def urlpath(response: requests.Response) -> str:
    return urlsplit(response.url or "").path or "?"
