"""Deployments with their own names: Azure OpenAI and gateways serve a model under a name the user chose.

Azure OpenAI serves ``gpt-image-2`` as ``my-image-deploy`` (the name of the deployment);
gateways such as LiteLLM as ``openai/gpt-image-2``. ``DALLE3_DEPLOYMENTS`` maps each such
name to the model whose rules and prices apply::

    DALLE3_DEPLOYMENTS=my-image-deploy=gpt-image-2,openai/gpt-image-2=gpt-image-2

The request carries the deployment's name as ``model`` (that is how both route it), while
validation, pricing, previews and the page's choices follow the mapped model. This module
also owns how an endpoint wants its key and its URLs: Azure OpenAI (a host under
``openai.azure.com``, ``services.ai.azure.com`` or ``cognitiveservices.azure.com``, or a base
path ending in ``/openai/v1``, its v1 API) takes the key in an ``api-key`` header; everyone
else in ``Authorization: Bearer``. A query on the base URL (``?api-version=preview``) is
kept on every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

# Azure: letters, digits, '-', '_', '.'; gateways add '/' and ':' (``openai/gpt-image-2``, ``azure:my-deploy``).
NAME_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:-]|/(?!/)){0,99}")
AZURE_HOSTS = (".openai.azure.com", ".services.ai.azure.com", ".cognitiveservices.azure.com")
AZURE_V1_PATH = "/openai/v1"


@dataclass(frozen=True)
class Deployment:
    """A name an endpoint serves (``name``) and the table model whose rules and prices apply (``model``)."""

    name: str
    model: str


class DeploymentsError(ValueError):
    """Why ``DALLE3_DEPLOYMENTS`` cannot be used (a sentence naming the variable)."""


def parse(raw: str, known: Mapping[str, object]) -> tuple[Deployment, ...]:
    """``name=model,name=model`` -> deployments; ``known`` is the model table (each model must be in it)."""
    found: dict[str, Deployment] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, model = (x.strip() for x in item.rpartition("="))
        if not sep or not name or not model:
            raise DeploymentsError(f"DALLE3_DEPLOYMENTS: {item[:60]!r} is not NAME=MODEL "
                                   "(e.g. my-image-deploy=gpt-image-2).")
        if not NAME_PATTERN.fullmatch(name):
            raise DeploymentsError(f"DALLE3_DEPLOYMENTS: {name[:60]!r} is not a deployment name (letters, digits, "
                                   "'.', '_', '-', ':' and single '/', at most 100).")
        if model not in known:
            raise DeploymentsError(f"DALLE3_DEPLOYMENTS: {name} maps to {model[:60]!r}, which is not a model in the "
                                   f"table ({', '.join(known)}).")
        if name in known and name != model:
            raise DeploymentsError(f"DALLE3_DEPLOYMENTS: {name} is a model of its own; it cannot stand for {model}.")
        if name in found and found[name].model != model:
            raise DeploymentsError(f"DALLE3_DEPLOYMENTS names {name} twice, for two models.")
        found[name] = Deployment(name, model)
    return tuple(d for d in found.values() if d.name != d.model)


def as_mapping(deployments: tuple[Deployment, ...]) -> Mapping[str, str]:
    return MappingProxyType({d.name: d.model for d in deployments})


def is_azure(base_url: str) -> bool:
    """True for Azure OpenAI: one of its hosts, or its v1 API's path."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    return host.endswith(AZURE_HOSTS) or parts.path.rstrip("/").endswith(AZURE_V1_PATH)


def auth_headers(base_url: str, api_key: str) -> dict[str, str]:
    """The header that carries ``api_key`` to this endpoint."""
    return {"api-key": api_key} if is_azure(base_url) else {"Authorization": f"Bearer {api_key}"}


def endpoint_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path``, keeping the base URL's query (``?api-version=...``) at the end."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + path, fragment=""))
