"""Who pays for a call: the offline simulator, the server's key, or the visitor's own key.

Decided once per call, from the settings and the key a visitor gave (maybe none, maybe
blank). The cache and the single-flight are keyed by the payer's ``id`` — "simulator",
"server", or "own:" + an opaque id of the visitor's key (:func:`dalle3.safety.opaque_id`) —
so a visitor with no key or a bad key never receives an image another payer made, nor
learns which prompts they ran. The id means nothing outside this process; the key itself
travels only in ``api_key``, which is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dalle3.results import OPENAI, SIMULATOR
from dalle3.safety import opaque_id
from dalle3.settings import Settings

SERVER_PAYER = "server"
OWN_PREFIX = "own:"


def own_key_given(own_key: str | None) -> str | None:
    """The visitor's key as it would be sent: stripped, and None when blank."""
    return (own_key or "").strip() or None


@dataclass(frozen=True)
class Payer:
    """One call's payer: the backend it runs on, an id safe to keep, the key it would send."""

    backend: str  # SIMULATOR or OPENAI
    id: str
    api_key: str = field(default="", repr=False)  # the visitor's own key, else the server's ("" if none)

    @property
    def own(self) -> bool:
        """Whether the visitor pays with their own key (no spend cap applies)."""
        return self.id.startswith(OWN_PREFIX)


def payer_for(settings: Settings, own_key: str | None) -> Payer:
    """Who pays for a call with ``own_key``: the simulator offline or with no key at all."""
    own = own_key_given(own_key)
    key = own or settings.api_key or ""
    if settings.offline or not key:
        return Payer(SIMULATOR, SIMULATOR, key)
    if own is None:
        return Payer(OPENAI, SERVER_PAYER, key)
    return Payer(OPENAI, OWN_PREFIX + opaque_id(own), key)
