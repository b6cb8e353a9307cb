"""Reading the API's JSON: each value checked for the shape it must have before it is used.

An answer is text from outside: a field documented as an object may be missing, ``null`` or
a string. These give the empty shape instead, so readers need no ``isinstance`` at every step.
"""

from __future__ import annotations

from typing import Any


def json_object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def json_list(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def json_text(value: Any) -> str | None:
    """``value`` if it is a string, else None."""
    return value if isinstance(value, str) else None
