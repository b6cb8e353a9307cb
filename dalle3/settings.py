"""Settings read once from the environment (and ``.env``), validated, passed in.

Nothing deeper in the package reads ``os.environ``: tests and the CLI build a
``Settings`` directly. A bad value stops start-up with a message naming the
variable, rather than failing later on the first click.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from urllib.parse import urlsplit

from dalle3.errors import ConfigurationError, shown_url
from dalle3.models.table import DEFAULT_CHAT_MODEL
from dalle3.models import DEFAULT_MODEL, MODEL_ID_PATTERN, MODELS, resolve
from dalle3.keys import PASTE_AGAIN, is_sendable
from dalle3.http.deployments import Deployment, DeploymentsError, as_mapping
from dalle3.http.deployments import parse as parse_deployments
from dalle3.models import use_deployments

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_SPACE_ID = re.compile(r"[\w.-]{1,96}/[\w.-]{1,96}")


@dataclass(frozen=True)
class Settings:
    """The app's configuration. ``api_key`` is hidden from ``repr``."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    offline: bool = False
    timeout_s: float | None = None  # None: timeouts fit each call (see dalle3.http.limits)
    connect_timeout_s: float = 10.0
    max_retries: int = 2
    output_dir: Path | None = Path("outputs")
    concurrency: int = 4
    max_spend_usd: float | None = None
    auth: tuple[str, str] | None = field(default=None, repr=False)
    default_model: str = DEFAULT_MODEL
    safety_id: bool = True  # send a per-session safety_identifier when serving others (DALLE3_SAFETY_ID)
    library: bool | None = None  # DALLE3_LIBRARY: None = on at loopback only (see library_access)
    on_space: bool = False  # running on a Hugging Face Space (SYSTEM=spaces or SPACE_ID set)
    space_id: str | None = None  # SPACE_ID ("owner/name") when it looks like one: what gradio_client calls
    deployments: tuple[Deployment, ...] = ()  # DALLE3_DEPLOYMENTS: names an endpoint serves a table model under
    mcp: bool = False  # DALLE3_MCP: also serve the MCP server, as --mcp does (a Space runs plain `python app.py`)
    trusted_proxies: tuple[str, ...] = ()  # DALLE3_TRUSTED_PROXIES: whose X-Forwarded-For names the client
    visitor_upload_mb: int = 256  # DALLE3_VISITOR_UPLOAD_MB: what one visitor may upload per day
    chat_model: str = DEFAULT_CHAT_MODEL  # DALLE3_CHAT_MODEL: the mainline model a conversation starts on

    @property
    def base_url_shown(self) -> str:
        """The endpoint as banners, messages and the CLI show it: no userinfo, query or fragment."""
        return shown_url(self.base_url)

    @property
    def simulated(self) -> bool:
        """True when generation uses the offline simulator (forced, or no server key)."""
        return self.offline or not self.api_key


def _number(env: Mapping[str, str], name: str, default: float, kind: type, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number.") from None
    if not math.isfinite(value) or value < minimum:  # "nan" < 0 is False: a NaN cap would be no cap
        raise ConfigurationError(f"{name}={raw!r} must be a finite number of at least {minimum}.")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    return bool(_tristate(env, name))


def _tristate(env: Mapping[str, str], name: str) -> bool | None:
    """Unset or empty: None; 1/true/yes/on: True; 0/false/no/off: False."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"{name}={raw!r}: use 1 or 0.")


def _flag_on(env: Mapping[str, str], name: str) -> bool:
    """A flag that is on unless set to 0 (or false/no/off)."""
    return _flag(env, name) if env.get(name, "").strip() else True


def parse_auth(raw: str, name: str = "DALLE3_AUTH") -> tuple[str, str]:
    """``user:password`` -> (user, password); the password may contain colons."""
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise ConfigurationError(f"{name} must look like user:password.")
    return user, password


def check_base_url(url: str) -> str:
    """``url`` if it can serve as the endpoint; the message never repeats it (it may hold a password)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("OPENAI_BASE_URL must be an http:// or https:// address with a host, "
                                 "such as https://api.openai.com/v1.")
    if parts.fragment or "#" in url or any(c.isspace() or ord(c) < 32 for c in url):
        raise ConfigurationError("OPENAI_BASE_URL must not contain a fragment (#…) or spaces: the app adds "
                                 "/images/generations to it (a query such as ?api-version=… is kept on every request).")
    if "@" in parts.netloc:
        # requests would turn user:password@ into Basic auth that *replaces* the Bearer key: the API key
        # would never be sent and every visitor's own key would go unchecked, billed to the proxy's account.
        raise ConfigurationError("OPENAI_BASE_URL must not contain a user name or password (user:password@): "
                                 "the API key goes in OPENAI_API_KEY and is sent as a Bearer token, which "
                                 "credentials in the address would replace. For a proxy that needs a login, set "
                                 "HTTPS_PROXY=http://user:password@proxy-host:port instead.")
    return url


# A Space's container is reached only through the Space's own proxy, which connects from a
# private address and appends the visitor's address to X-Forwarded-For.
SPACE_PROXIES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


def parse_proxies(raw: str, on_space: bool, name: str = "DALLE3_TRUSTED_PROXIES") -> tuple[str, ...]:
    """Addresses or networks (``10.0.0.0/8``) whose ``X-Forwarded-For`` is believed; none unless set or on a Space."""
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if not items:
        return SPACE_PROXIES if on_space else ()
    if items == ("none",):
        return ()
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigurationError(f"{name}: {item[:60]!r} is not an IP address or network "
                                     "(such as 10.0.0.5 or 10.0.0.0/8); use none to trust no proxy.") from None
    return items


def from_env(env: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Read settings from ``env`` (default: ``os.environ`` after loading ``.env``)."""
    if env is None:
        if dotenv:
            from dotenv import find_dotenv, load_dotenv

            load_dotenv(find_dotenv(usecwd=True), override=False)  # the real environment wins
        env = os.environ
    base_url = check_base_url(env.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL)
    timeout = _number(env, "DALLE3_TIMEOUT_S", -1.0, float, 1) if env.get("DALLE3_TIMEOUT_S", "").strip() else None
    out = env.get("DALLE3_OUTPUT_DIR")
    spend = _number(env, "DALLE3_MAX_SPEND_USD", -1.0, float, 0)
    auth = env.get("DALLE3_AUTH", "").strip()
    model = env.get("DALLE3_MODEL", "").strip() or DEFAULT_MODEL
    space_id = env.get("SPACE_ID", "").strip()
    try:
        deployments = parse_deployments(env.get("DALLE3_DEPLOYMENTS", ""), MODELS)
    except DeploymentsError as exc:
        raise ConfigurationError(str(exc)) from None
    use_deployments(as_mapping(deployments))
    on_space = env.get("SYSTEM", "").strip() == "spaces" or bool(space_id)
    if resolve(model) is None:
        named = ", ".join([*MODELS, *(d.name for d in deployments)])
        raise ConfigurationError(f"DALLE3_MODEL={model!r} is not a known model or deployment ({named}).")
    api_key = env.get("OPENAI_API_KEY", "").strip() or None
    if api_key is not None and not is_sendable(api_key):
        raise ConfigurationError("OPENAI_API_KEY contains a character an OpenAI key never has (a space, a line "
                                 f"break or an invisible character). {PASTE_AGAIN}")
    chat_model = env.get("DALLE3_CHAT_MODEL", "").strip() or DEFAULT_CHAT_MODEL
    if not MODEL_ID_PATTERN.fullmatch(chat_model) or resolve(chat_model) is not None:
        raise ConfigurationError(f"DALLE3_CHAT_MODEL={chat_model[:64]!r} is not a mainline model id such as "
                                 f"{DEFAULT_CHAT_MODEL} (lower-case letters, digits, '.', '-'; not an image model).")
    return Settings(
        api_key=api_key,
        base_url=base_url.rstrip("/"),
        offline=_flag(env, "DALLE3_OFFLINE"),
        timeout_s=timeout,
        connect_timeout_s=min(10.0, timeout or 10.0),
        max_retries=int(_number(env, "DALLE3_MAX_RETRIES", 2, int, 0)),
        output_dir=Path("outputs") if out is None else (Path(out) if out.strip() else None),
        concurrency=int(_number(env, "DALLE3_CONCURRENCY", 4, int, 1)),
        max_spend_usd=None if spend < 0 else spend,
        auth=parse_auth(auth) if auth else None,
        default_model=model,
        safety_id=_flag_on(env, "DALLE3_SAFETY_ID"),
        library=_tristate(env, "DALLE3_LIBRARY"),
        on_space=on_space,
        space_id=space_id if _SPACE_ID.fullmatch(space_id) else None,
        deployments=deployments,
        mcp=_flag(env, "DALLE3_MCP"),
        trusted_proxies=parse_proxies(env.get("DALLE3_TRUSTED_PROXIES", ""), on_space),
        visitor_upload_mb=int(_number(env, "DALLE3_VISITOR_UPLOAD_MB", 256, int, 1)),
        chat_model=chat_model,
    )


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def exposure_warning(settings: Settings, host: str) -> str | None:
    """A one-line warning when anyone on the network could spend the server key without limit."""
    if host in LOOPBACK_HOSTS or not settings.api_key or settings.offline:
        return None
    if settings.auth or settings.max_spend_usd is not None:
        return None
    return (f"WARNING: serving on {host} with a server API key, no DALLE3_AUTH and no DALLE3_MAX_SPEND_USD: "
            "anyone who can reach this page can spend on your key.")
