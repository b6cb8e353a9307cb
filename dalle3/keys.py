"""What an API key may contain: the one rule for the server key, a visitor's own key and the client.

A key travels in an HTTP header, which carries Latin-1 at most; OpenAI's keys are
printable ASCII (``sk-`` and letters, digits, ``-`` and ``_``). A key pasted with a
zero-width space or a line break would fail deep inside ``http.client`` with a
``UnicodeEncodeError``; refusing it up front gives a sentence instead, and the
sentence never repeats the key.
"""

from __future__ import annotations

import re

_SENDABLE = re.compile(r"[\x21-\x7e]{1,4096}")

PASTE_AGAIN = ("Copy the key again from your OpenAI dashboard and paste only the key (no spaces, line breaks "
               "or invisible characters around or inside it).")


def is_sendable(key: str) -> bool:
    """Whether ``key`` can be sent as ``Authorization: Bearer <key>``: printable ASCII, no spaces."""
    return bool(_SENDABLE.fullmatch(key))


def own_key_problem(key: str) -> str | None:
    """The sentence to show when a visitor's own key cannot be sent; None when it can."""
    if is_sendable(key):
        return None
    return ("Your API key contains a character an OpenAI key never has (a space, a line break or an invisible "
            f"character, perhaps pasted with it), so it was not sent. {PASTE_AGAIN}")
