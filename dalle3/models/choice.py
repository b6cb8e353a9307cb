"""Which model a request runs on when its caller named none: the endpoint's, as the page starts on.

The built-in default (``dall-e-3``) is retired on many endpoints, so a script, the CLI and the
page would each fail on a plain ``validate("a prompt")``. A request whose model was not named
(``GenerationRequest.model_named`` false) runs on the first model of its successor chain that
the endpoint lists, with the closest quality and size, and the change is said in words. A model
named explicitly is never replaced: the endpoint's refusal (with its successor) stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from dalle3.models import DEFAULT_STYLE, closest_quality_and_size, lifecycle, resolve
from dalle3.params import GenerationRequest, profile_for, validate


def start_model(model_id: str, offered: Mapping[str, Any] | None, *, by_calendar: bool = True,
                today: date | None = None) -> tuple[str, str | None]:
    """The model the page starts on: ``model_id``, unless it is shut down or the endpoint lacks it.

    The endpoint's listing decides where there is one: a model it lists with no shutdown date
    (or one still ahead) is served there; one it lacks, or lists with a shutdown date that has
    come, is not. Without a listing, ``by_calendar`` (OpenAI's own API, where the table's dates
    are the truth) makes a model whose shutdown day has come give way too; a compatible server
    is trusted to serve what it was configured with until its listing says otherwise. The page
    then starts on the first successor down the chain that is served, and the note says why.
    """
    if offered is not None and model_id in offered:
        shut = lifecycle.listed_shut_down(offered[model_id], today=today)
    elif offered is not None:
        shut = False
    else:
        shut = by_calendar and lifecycle.is_shut_down(model_id, today=today)
    if (offered is None or model_id in offered) and not shut:
        return model_id, None
    successor = lifecycle.usable_successor(model_id, offered, today=today)
    if successor is None:
        return model_id, None
    profile = resolve(model_id)
    listed = (offered or {}).get(model_id)
    why = (f"{model_id} was shut down on {lifecycle.shutdown_of(profile, listed)}" if shut and profile
           else f"{model_id} is not offered by this endpoint")
    return successor, f"{why}; using {successor}."


@dataclass(frozen=True)
class Choice:
    """The request to send, and the sentence that says what changed (None: nothing did)."""

    request: GenerationRequest
    note: str | None = None


def retarget(request: GenerationRequest, model_id: str) -> tuple[GenerationRequest, list[str]]:
    """``request`` on ``model_id`` with the closest quality and size, and the changes in words.

    Style has no counterpart on GPT Image models; extras the target lacks are dropped.
    """
    target = profile_for(model_id)
    quality, size = closest_quality_and_size(target, request.quality, request.size)
    extras = {name: value for name, value in request.extras if value in target.extras.get(name, ())}
    moved = validate(request.prompt, seed=request.seed, quality=quality, style=request.style, size=size,
                     model=target.id, extras=extras, output_format=request.output_format,
                     output_compression=request.output_compression, safety_identifier=request.safety_identifier,
                     n=request.n)
    changes = [f"{name} {old} → {new}" for name, old, new in (("quality", request.quality, quality),
                                                              ("size", request.size, size)) if old != new]
    if request.style not in (None, DEFAULT_STYLE) and moved.style is None:
        changes.append(f"style {request.style} dropped, {target.id} has none")
    return moved, changes


def move(request: GenerationRequest, model_id: str) -> Choice:
    """``request`` on ``model_id`` instead of its model, which the endpoint does not offer, with the note."""
    moved, changes = retarget(request, model_id)
    detail = f" ({'; '.join(changes)})" if changes else ""
    return Choice(moved, f"{request.model} is not offered by this endpoint; using {model_id}{detail}. "
                         "Name a model to choose another.")


def after_refusal(request: GenerationRequest, offered: Mapping[str, Any] | None, successor: str | None) -> Choice:
    """``request`` after the endpoint said it does not offer ``request.model``.

    ``offered`` is the endpoint's listing (None: unknown, then the refusal's ``successor`` is
    tried). A model the caller named stays: the refusal stands and the Choice has no note.
    """
    if request.model_named:
        return Choice(request)
    if offered is None:
        offered = {successor: {}} if successor else {}
    model_id, _ = start_model(request.model, {k: v for k, v in offered.items() if k != request.model})
    return Choice(request) if model_id == request.model else move(request, model_id)
