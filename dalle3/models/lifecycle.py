"""Where a model is in its life on a given day: the table's dates read against the calendar.

OpenAI announces a shutdown months ahead, and on the shutdown day the model stops
answering. The table stores the dates; this module says what they mean *today*, so
a model whose day has passed is labelled and treated as shut down from that day on,
without a new release of the app. Every function takes ``today`` so tests (and the
README's table, rendered as of the day the table was checked) can fix the day; by
default it is today's date in UTC, the calendar OpenAI's dates are written in.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

from dalle3.models import ModelProfile, display_date, resolve

if TYPE_CHECKING:
    from dalle3.settings import Settings

OPENAI_HOST = "api.openai.com"

ACTIVE, DEPRECATED, RETIRED = "active", "deprecated", "retired"


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def shutdown_of(profile: ModelProfile, listed: Mapping[str, Any] | None = None) -> str | None:
    """The shutdown day as YYYY-MM-DD: the endpoint's ``shutdown_date`` where it lists one, else the table's."""
    return display_date((listed or {}).get("shutdown_date")) or profile.shutdown


def status(profile: ModelProfile, listed: Mapping[str, Any] | None = None, *, today: date | None = None) -> str:
    """``active``, ``deprecated`` (a shutdown day ahead) or ``retired`` (that day has come) on ``today``."""
    shutdown = shutdown_of(profile, listed)
    if shutdown is None:
        return profile.lifecycle
    return RETIRED if date.fromisoformat(shutdown) <= (today or utc_today()) else DEPRECATED


def listed_shut_down(listed: Mapping[str, Any], *, today: date | None = None) -> bool:
    """True when an endpoint's listing entry carries a shutdown date that has come."""
    shutdown = display_date(listed.get("shutdown_date"))
    return shutdown is not None and date.fromisoformat(shutdown) <= (today or utc_today())


def is_shut_down(model_id: str, listed: Mapping[str, Any] | None = None, *, today: date | None = None) -> bool:
    profile = resolve(model_id)
    return profile is not None and status(profile, listed, today=today) == RETIRED


def calendar_decides(settings: Settings) -> bool:
    """True where the table's shutdown dates are the truth without asking: OpenAI's own API, not the simulator.

    A compatible server or a gateway may still serve a model OpenAI shut down; its listing says so.
    """
    return not settings.simulated and urlsplit(settings.base_url).hostname == OPENAI_HOST


def usable_successor(model_id: str, offered: Mapping[str, Any] | None = None, *,
                     today: date | None = None) -> str | None:
    """The first model down ``model_id``'s successor chain that is not shut down (and offered, given a listing)."""
    seen, candidate = {model_id}, resolve(model_id)
    while candidate is not None and candidate.successor and candidate.successor not in seen:
        seen.add(candidate.successor)
        listed = (offered or {}).get(candidate.successor)
        served = (not is_shut_down(candidate.successor, today=today) if offered is None else
                  listed is not None and not listed_shut_down(listed, today=today))
        if served:
            return candidate.successor
        candidate = resolve(candidate.successor)
    return None
