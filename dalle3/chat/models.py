"""Which mainline model drives a conversation, and what its own tokens cost.

The prices are data in :data:`dalle3.models.table.CHAT_MODELS`. A model the
endpoint lists that the table does not price is still usable: it is priced at
the dearest known model, marked as an estimate, so the spend cap never
reserves too little.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from dalle3.models.table import CHAT_MODELS, DEFAULT_CHAT_MODEL
from dalle3.models.profile import ChatModelPrices, Citation
from dalle3.models import MODEL_ID_PATTERN, resolve

# Families that answer POST /responses with hosted tools; audio, realtime, search, embedding,
# moderation and image models do not drive the image tool.
_MAINLINE = re.compile(r"(gpt-[4-9][a-z0-9.]*|o[3-9])(-[a-z0-9.]+)*")
_NOT_MAINLINE = re.compile(r"audio|realtime|search|transcribe|tts|embedding|moderation|image|codex|instruct")

UNPRICED = ChatModelPrices(
    *max(((p.text_input, p.cached_input, p.text_output) for p in CHAT_MODELS.values()), key=lambda t: t[2]),
    Citation("not in the price table: priced as the dearest known mainline model", confidence="estimate"))


def is_mainline(model_id: Any) -> bool:
    """Whether ``model_id`` looks like a model that can drive the image tool (checked as text from outside)."""
    return (isinstance(model_id, str) and bool(MODEL_ID_PATTERN.fullmatch(model_id))
            and bool(_MAINLINE.fullmatch(model_id)) and not _NOT_MAINLINE.search(model_id)
            and resolve(model_id) is None)


def chat_models(listing: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The mainline model ids in a ``GET /models`` listing: priced ones first, then the rest, sorted."""
    ids = {entry.get("id") for entry in listing if isinstance(entry, Mapping)}
    found = sorted(i for i in ids if isinstance(i, str) and is_mainline(i))
    return tuple(sorted(found, key=lambda i: (i not in CHAT_MODELS, i)))


def choose(offered: Iterable[str] | None, wanted: str = DEFAULT_CHAT_MODEL) -> tuple[str, str | None]:
    """(the model to use, a note when it is not ``wanted``): ``wanted`` unless the listing lacks it."""
    offered = tuple(offered or ())
    if not offered or wanted in offered:
        return wanted, None
    for model in (*CHAT_MODELS, *offered):
        if model in offered:
            return model, f"This endpoint does not list {wanted}; the conversation uses {model}."
    return wanted, None


def prices(model: str) -> ChatModelPrices:
    """The model's token prices, or :data:`UNPRICED` (an estimate at the dearest known prices)."""
    return CHAT_MODELS.get(model, UNPRICED)
