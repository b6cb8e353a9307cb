"""How much the server keeps per visitor: bounded, and nothing for a call that only used the API.

Gradio keeps one ``SessionState`` per ``session_hash``, and each one starts with its own copy of
the config of every block on the page (``gradio/state_holder.py``: ``config_values``) — about
95 KB for this page's ~50 blocks, against ~13 KB for a one-endpoint app. Sessions are dropped only
when more than ``state_session_capacity`` exist (default 10,000: about 1 GB here). Two measures:

* :data:`SESSION_CAPACITY` bounds the sessions kept (Gradio's documented ``launch`` option), so
  memory stays bounded whatever the number of visitors (oldest-used first out).
* :func:`forget_api_only_session` drops the session of a ``/generate`` call once the call has run,
  when that session holds no ``gr.State`` value (a page visitor's history lives in one; an API
  caller never has one). The running call keeps its own reference until its answer is sent, so
  only the stored copy goes. A flood of anonymous API calls thus neither grows memory nor pushes
  page visitors' histories out of the bounded store.

Written against Gradio's ``StateHolder`` (``session_data``, ``time_last_used``, ``lock``); no public
API removes one session. ``tests/test_session_memory.py`` pins the behaviour, so a Gradio upgrade
that changes these internals fails there rather than silently keeping sessions again.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

SESSION_CAPACITY = 2000  # × ~95 KB: at most ~190 MB of session configs, however many visitors come


def forget_api_only_session(demo: gr.Blocks, request: gr.Request | None) -> bool:
    """Drop ``request``'s stored session if it holds no ``gr.State`` value; True when dropped."""
    holder: Any = getattr(demo, "state_holder", None)
    session_hash = getattr(request, "session_hash", None) if request is not None else None
    if holder is None or not session_hash:
        return False
    with holder.lock:
        session = holder.session_data.get(session_hash)
        if session is None or session.state_data:
            return False
        del holder.session_data[session_hash]
        holder.time_last_used.pop(session_hash, None)
    return True
