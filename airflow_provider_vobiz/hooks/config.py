"""The hook's settings, read from its Airflow connection (base URL, credentials, numeric extras), and its client.

host = the API base URL (https unless loopback), login = Auth ID, password = Auth Token. Extras (the
connection form's fields in provider info) arrive as strings from URI-form connections, so each is parsed
and bounded here with a message that names the extra.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from airflow_provider_vobiz.hooks.retry import RetryPolicy

#: Connection extras (the names of the connection form in provider info) and their defaults.
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 8
DEFAULT_RETRY_BUDGET = 300.0
DEFAULT_PAGE_CONCURRENCY = 4
MAX_PAGE_CONCURRENCY = 32
DEFAULT_BACKOFF_BASE = 1.0
DEFAULT_BACKOFF_MAX = 30.0
DEFAULT_PROGRESS_INTERVAL = 10.0


@dataclass(frozen=True)
class Settings:
    """What the hook needs from its connection, checked."""

    base_url: str
    auth_id: str
    token: str
    timeout: float
    retry: RetryPolicy
    page_concurrency: int
    progress_interval: float


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (the only hosts plain http is allowed to)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(
    host: str | None, port: int | None = None, *, allow_insecure_http: bool = False
) -> str:
    """The API base URL from a connection's host (and port); https is required unless the host is loopback.

    A host without a scheme (URI-form connections) is taken as https. ``allow_insecure_http`` (the connection
    extra of that name) admits plain http to other hosts, for a simulator on a private network such as the
    docker-compose stack's; never use it for the real API.
    """
    if not host or not host.strip():
        raise ValueError(
            "the Vobiz connection has no host: set it to the API base URL, e.g. https://api.vobiz.ai"
        )
    url = host.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the Vobiz base URL must be an http(s) URL with a host, got {parts.scheme}://…")
    if parts.username or parts.password:
        raise ValueError("the Vobiz base URL must not carry credentials: put them in login and password")
    if port and parts.port is None:
        netloc = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        url = f"{parts.scheme}://{netloc}:{port}{parts.path}"
    if parts.scheme != "https" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ValueError(
            f"refusing to send the Vobiz Auth Token over plain http to {parts.hostname}: "
            "use an https:// base URL (plain http is accepted only for loopback hosts such as 127.0.0.1)"
        )
    return url


def extra_number(extra: dict, name: str, default: float, *, minimum: float, integer: bool) -> Any:
    """A numeric extra; URI-form connections deliver extras as strings."""
    raw = extra.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw)
        if integer:
            if value != int(value):
                raise ValueError
            value = int(value)
    except (TypeError, ValueError):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"connection extra {name!r} must be {kind}, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"connection extra {name!r} must be >= {minimum}, got {value}")
    return value


def _credentials(conn: Any, conn_id: str) -> tuple[str, str]:
    """``(auth_id, token)``; the token goes to Airflow's secrets masker before anything can log it."""
    token = conn.password or ""
    if token:
        # Airflow skips secrets shorter than 5 characters.
        from airflow.sdk.log import mask_secret

        mask_secret(token)
    if not conn.login:
        raise ValueError(f"connection {conn_id!r} has no login: set it to the Vobiz Auth ID")
    if not token:
        raise ValueError(f"connection {conn_id!r} has no password: set it to the Vobiz Auth Token")
    return conn.login.strip(), token


def _retry_policy(extra: dict) -> RetryPolicy:
    return RetryPolicy(
        max_retries=extra_number(extra, "max_retries", DEFAULT_MAX_RETRIES, minimum=0, integer=True),
        budget_seconds=extra_number(
            extra, "retry_budget_seconds", DEFAULT_RETRY_BUDGET, minimum=0, integer=False
        ),
        backoff_base=extra_number(
            extra, "backoff_base_seconds", DEFAULT_BACKOFF_BASE, minimum=0, integer=False
        ),
        backoff_max=extra_number(extra, "backoff_max_seconds", DEFAULT_BACKOFF_MAX, minimum=0, integer=False),
    )


def _page_concurrency(extra: dict) -> int:
    concurrency = extra_number(extra, "page_concurrency", DEFAULT_PAGE_CONCURRENCY, minimum=1, integer=True)
    if concurrency > MAX_PAGE_CONCURRENCY:
        raise ValueError(
            f"connection extra 'page_concurrency' must be <= {MAX_PAGE_CONCURRENCY}, got {concurrency}"
        )
    return concurrency


def settings_from_connection(conn: Any, conn_id: str, overrides: dict[str, Any]) -> Settings:
    """The hook's settings from an Airflow connection; ``overrides`` (not None) replace extras of that name.

    :raises ValueError: naming the connection field or extra to fix.
    """
    auth_id, token = _credentials(conn, conn_id)
    extra = dict(conn.extra_dejson or {})
    extra.update({key: value for key, value in overrides.items() if value is not None})
    retry = _retry_policy(extra)
    concurrency = _page_concurrency(extra)
    insecure = str(extra.get("allow_insecure_http", "")).strip().lower() in ("true", "1", "yes")
    return Settings(
        base_url=normalise_base_url(conn.host, conn.port, allow_insecure_http=insecure),
        auth_id=auth_id,
        token=token,
        timeout=extra_number(extra, "timeout", DEFAULT_TIMEOUT, minimum=0.001, integer=False),
        retry=retry,
        page_concurrency=concurrency,
        progress_interval=extra_number(
            extra, "progress_interval_seconds", DEFAULT_PROGRESS_INTERVAL, minimum=0, integer=False
        ),
    )


def make_client(settings: Settings, user_agent: str) -> httpx.Client:
    """The hook's one pooled client (thread-safe; shared by the page workers)."""
    pool = max(4, settings.page_concurrency + 2)
    return httpx.Client(
        base_url=settings.base_url,
        headers={"X-Auth-ID": settings.auth_id, "X-Auth-Token": settings.token, "User-Agent": user_agent},
        timeout=httpx.Timeout(settings.timeout),
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        # A redirect to another host would carry the token header along: never follow one.
        follow_redirects=False,
    )
