"""How much the server keeps per visitor: bounded, and nothing for a call that only used the API.

Gradio keeps one ``SessionState`` per ``session_hash``, and each one starts with its own copy of
the config of every block on the page (``gradio/state_holder.py``: ``config_values``) — about
200 KB for this page's blocks, against ~13 KB for a one-endpoint app. Sessions are dropped only
when more than ``state_session_capacity`` exist (default 10,000: about 2 GB here). Two measures:

* :data:`SESSION_CAPACITY` bounds the sessions kept (Gradio's documented ``launch`` option), so
  memory stays bounded whatever the number of visitors.
* :func:`forget_api_only_session` drops the session of a ``/generate`` call once the call has run,
  when that session holds no ``gr.State`` value (a page visitor's history lives in one; an API
  caller never has one). The running call keeps its own reference until its answer is sent, so
  only the stored copy goes. A flood of anonymous API calls thus neither grows memory nor pushes
  page visitors' histories out of the bounded store.

Two more keep visitors from pushing each other out (:func:`keep_sessions_lean`, after launch):

* :class:`LeanSession` keeps no copy of the blocks' config. Gradio fills ``config_values`` only
  for its deep links (``/gradio_api/deep_link``), which this page does not offer; without it a
  session is a few KB (the blocks-config copy and its ``gr.State`` values) instead of ~200 KB.
* :class:`VisitorSessions` evicts, when full, the least recently used session that has made
  no image (one that only changed a control) before any session that has; the guard bounds
  the new sessions one client may open (``ui.guard``).

Written against Gradio's ``StateHolder`` (``session_data``, ``time_last_used``, ``lock``,
``__getitem__``, ``update``) and ``SessionState``'s attributes; no public API removes one
session. ``tests/test_session_memory.py`` pins the behaviour, so a Gradio upgrade
that changes these internals fails there rather than silently keeping sessions again.
"""

from __future__ import annotations

import datetime
import os
from copy import copy
from typing import Any

import gradio as gr
from gradio.state_holder import SessionState as GradioSession
from gradio.state_holder import StateHolder

from dalle3.views.session import SessionState

SESSION_CAPACITY = 2000  # × ~16 KB (lean sessions): ~32 MB, however many visitors come


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


class LeanSession(GradioSession):
    """Gradio's session state without the per-session copy of every block's config (deep links only)."""

    def __init__(self, blocks: gr.Blocks) -> None:  # Gradio's own attributes, but config_values empty
        self.blocks_config = copy(blocks.default_config)
        self.config_values: dict[int, Any] = {}
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, Any] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    def __setitem__(self, key: int, value: Any) -> None:  # an updated block is kept, its config copy is not
        super().__setitem__(key, value)
        self.config_values.pop(key, None)

    def _update_config(self, key: int) -> None:
        return None

    def _update_value_in_config(self, key: int, value: Any) -> None:
        return None


def made_images(session: GradioSession) -> bool:
    """True when the session's page state records an image made (or an amount spent)."""
    return any(isinstance(v, SessionState) and (v.images or v.history or v.spent_usd)
               for v in session.state_data.values())


class VisitorSessions(StateHolder):
    """Gradio's ``StateHolder`` with lean sessions; when full, sessions that made no image go first."""

    def __getitem__(self, session_id: str) -> GradioSession:
        if session_id not in self.session_data:
            self.session_data[session_id] = LeanSession(self.blocks)
        self.update(session_id)
        self.time_last_used[session_id] = datetime.datetime.now()
        return self.session_data[session_id]

    def update(self, session_id: str) -> None:
        with self.lock:
            if session_id in self.session_data:
                self.session_data.move_to_end(session_id)
            while len(self.session_data) > max(self.capacity, 1):
                victim = next((sid for sid, kept in self.session_data.items()
                               if sid != session_id and not made_images(kept)), None)
                if victim is None:
                    victim = next(sid for sid in self.session_data if sid != session_id)
                del self.session_data[victim]
                self.time_last_used.pop(victim, None)


def keep_sessions_lean(demo: gr.Blocks) -> None:
    """After launch: make ``demo``'s session store a :class:`VisitorSessions` (same object, same data)."""
    holder: Any = getattr(demo, "state_holder", None)
    if holder is not None and type(holder) is StateHolder:
        holder.__class__ = VisitorSessions
