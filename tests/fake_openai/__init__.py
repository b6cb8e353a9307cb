"""A fake of OpenAI's Images API (``POST /v1/images/generations``) as a real loopback HTTP server.

Why a real server instead of mocking ``requests``/``httpx``: the app's HTTP
behaviour (timeouts, keep-alive, retries, connection resets, oversized bodies,
non-JSON error pages) is exactly what we want to test, and only real sockets
exercise it.  The server listens on ``127.0.0.1`` on an OS-chosen port, runs in
a background thread and handles each connection on a daemon thread, so a
handler that is deliberately hanging never blocks other requests or
:meth:`FakeOpenAI.stop`.

Its three parts, one module or more each:

* spec validation: :mod:`.spec` (a generation's checks, in the real API's order) and
  :mod:`.edits` (an edit's multipart body and the SDK's edit rules);
* scripting: :mod:`.scripting` (:class:`Outcome`, :class:`SeenRequest`, :func:`render_image`
  and the other values and helpers a test builds its faults and answers from);
* the server: :mod:`.server` (:class:`FakeOpenAI`: state, lifecycle, routes), :mod:`.handler`
  (the HTTP layer), :mod:`.answers` (carrying out an outcome), :mod:`.stream` (server-sent
  events), :mod:`.responses` (``/v1/responses``) and :mod:`.batches` (``/v1/files``,
  ``/v1/batches``).

Tests import what they need from the package itself (``from tests.fake_openai import
FakeOpenAI, Outcome``); the route modules' own helpers (``responses.state``...) from their module.

Behaviour mirrors the real API where it is documented:

* Requests are authenticated (``Authorization: Bearer ...``) and validated
  against the public OpenAPI ``CreateImageRequest`` schema, the official
  ``openai`` SDK's parameter types (``tests/sdk_check.py``) and the per-model
  rules the API enforces (DALL-E 3 sizes/qualities, GPT Image custom sizes, ...)
  *before* a scripted outcome is consumed, just as the real server rejects a bad
  request before anything else can happen to it (:mod:`.spec`, :mod:`.edits`).
* Every request to the generations endpoint is recorded in
  :attr:`FakeOpenAI.requests`, including rejected ones.
* Faults are scripted with :meth:`FakeOpenAI.script` using :class:`Outcome`
  constructors; once the queue is empty every request succeeds.

Fake-specific choices (documented so tests can rely on them):

* A request without ``model`` is treated as ``dall-e-2`` (the spec's default),
  which this fake does not serve, so it gets ``404 model_not_found``.
* DALL-E 3 without ``response_format`` gets the URL form (the spec's default is
  ``url``); pass ``response_format="b64_json"`` to get base64.
* GPT Image ``quality: "auto"`` (or omitted) is reported as ``"medium"``;
  ``background: "auto"`` (or omitted) is reported as ``"opaque"``; ``size:
  "auto"`` renders 1024x1024.
* GPT Image output tokens are ``round(base * width * height / 1048576) * n``
  with ``base`` = 272 (low), 1056 (medium), 4160 (high) for the quality asked
  (or :attr:`FakeOpenAI.billed_quality` when set); input tokens are
  ``max(1, len(prompt) // 4)`` (all text, no image tokens).
* ``stream: true`` (GPT Image) is answered with server-sent events as
  :mod:`.stream` describes; :attr:`FakeOpenAI.stream_mode` ``"reject"``
  answers 400 (param ``stream``) and ``"ignore"`` plain JSON, like endpoints that
  do not stream.
* Quality ``xhigh``/``max`` only on the models the SDK names (the 2.5 models and
  their snapshots): 2.6 is refused with ``invalid_value``, since the SDK is silent.
  ``gif``/``svg`` get 403 ``preview_access_required``; ``output_compression`` with
  PNG gets 400. A ``safety_identifier`` is echoed in the answer, as the SDK's
  ``ImagesResponse`` documents.
"""

from tests.fake_openai.scripting import (
    Outcome,
    SeenRequest,
    closed_port_url,
    mask_key,
    png_with_c2pa,
    render_image,
)
from tests.fake_openai.server import FakeOpenAI

__all__ = ["FakeOpenAI", "Outcome", "SeenRequest", "closed_port_url", "mask_key", "png_with_c2pa", "render_image"]
