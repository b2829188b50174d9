"""VobizHook: the client of the Vobiz CDR API.

Design (see docs/hook.md for the user-facing version):

- One pooled ``httpx.Client`` per hook (keep-alive, HTTP/1.1), shared by worker threads: pages of a query are
  fetched by a bounded ``ThreadPoolExecutor`` (``page_concurrency``) and yielded strictly in page order, with
  at most ``page_concurrency`` pages in flight or buffered, so memory stays bounded.
- Every request retries 429, 5xx, timeouts and dropped connections on its own (exponential backoff with equal
  jitter, Retry-After honoured), bounded by attempts and by a total time budget. A page that fails is retried
  as that page: iteration resumes where it failed, it never restarts the query.
- Iterating a query must yield exactly the ``pagination.total`` that the API reported, or the iterator raises
  :class:`VobizPaginationError` naming the difference and the pages that came back short.
- The Auth Token goes to Airflow's secrets masker the moment the connection is read, travels only in the
  ``X-Auth-Token`` header, and is scrubbed from every message this module builds.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from airflow.sdk import BaseHook

from airflow_provider_vobiz.hooks.exceptions import (
    VobizApiError,
    VobizAuthError,
    VobizBadRequestError,
    VobizNotFoundError,
    VobizPaginationError,
    VobizRateLimitError,
    VobizRetryBudgetExceeded,
    VobizServerError,
    VobizTransportError,
)
from airflow_provider_vobiz.hooks.filters import (
    MAX_PER_PAGE,
    build_filter_params,
    check_call_id,
    check_limit,
    check_page,
    describe,
)
from airflow_provider_vobiz.hooks.retry import RetryPolicy, parse_retry_after
from airflow_provider_vobiz.privacy import mask_number, mask_text

T = TypeVar("T")

#: Connection extras (the names of the connection form in provider info) and their defaults.
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 8
DEFAULT_RETRY_BUDGET = 300.0
DEFAULT_PAGE_CONCURRENCY = 4
MAX_PAGE_CONCURRENCY = 32
DEFAULT_BACKOFF_BASE = 1.0
DEFAULT_BACKOFF_MAX = 30.0
DEFAULT_PROGRESS_INTERVAL = 10.0
EXPORT_CHUNK_BYTES = 256 * 1024
#: Pages followed past the announced count while the API keeps saying has_next (a bound, not a limit in use).
MAX_EXTRA_PAGES = 100
#: Request ids are read from the first of these response headers that is present.
REQUEST_ID_HEADERS = ("x-request-id", "x-vobiz-request-id", "request-id")

# Transport failures worth retrying: the request may not have reached the server, or its answer was lost.
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass
class CdrPage:
    """One page of a list query, as the API returned it."""

    page: int
    records: list[dict]
    account_id: str | None
    pagination: dict
    summary: dict | None = None


@dataclass
class ExportResult:
    """What :meth:`VobizHook.export_to` wrote: ``bytes`` of CSV, ``rows`` (data lines, header excluded),
    ``path`` (None when the target was a stream), how many ``attempts`` it took and ``elapsed_s``."""

    bytes: int
    rows: int
    path: str | None
    attempts: int = 1
    elapsed_s: float = 0.0


@dataclass
class IterationStats:
    """Figures of the last :meth:`VobizHook.iter_pages` / :meth:`VobizHook.iter_records` run.

    Readable as attributes or as a mapping (``stats["records"]``). ``records`` counts every record yielded;
    ``duplicates`` those whose uuid was already seen on an earlier page (they are still yielded, and the cdr
    layer keeps the latest), ``unique_records`` the rest; ``duplicate_uuids`` holds up to 100 of those uuids.
    ``complete`` is True once the invariant held: ``unique_records`` == ``api_total``.
    """

    query: dict = field(default_factory=dict)
    per_page: int = MAX_PER_PAGE
    pages: int = 0
    api_pages: int = 0
    records: int = 0
    unique_records: int = 0
    duplicates: int = 0
    duplicate_uuids: list[str] = field(default_factory=list)
    api_total: int | None = None
    account_id: str | None = None
    summary: dict | None = None
    elapsed_s: float = 0.0
    complete: bool = False

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Settings:
    base_url: str
    auth_id: str
    token: str
    timeout: float
    retry: RetryPolicy
    page_concurrency: int
    progress_interval: float


class _Retryable(Exception):
    """One attempt failed in a way worth retrying; carries what the final error needs."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        api_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind  # "rate_limit" | "server" | "transport"
        self.detail = detail
        self.status = status
        self.request_id = request_id
        self.api_message = api_message
        self.retry_after = retry_after


class _MaskNumbersInRequestLog(logging.Filter):
    """httpx logs every request URL at INFO; in ours, phone-number filters (personal data) keep only their
    last four digits, as everywhere else in the provider."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 1 and isinstance(args[1], httpx.URL):
            url: httpx.URL = args[1]
            if "/cdr" in url.path and ("from_number" in url.params or "to_number" in url.params):
                params = url.params
                for key in ("from_number", "to_number"):
                    if key in params:
                        params = params.set(key, mask_number(params[key]))
                record.args = (args[0], str(url.copy_with(params=params)), *args[2:])
        return True


logging.getLogger("httpx").addFilter(_MaskNumbersInRequestLog())


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


def _extra_number(extra: dict, name: str, default: float, *, minimum: float, integer: bool) -> Any:
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


class _CsvRowCounter:
    """Counts CSV records in a byte stream without holding it: newlines outside double quotes."""

    def __init__(self) -> None:
        self.lines = 0
        self.in_quotes = False
        self.pending = False  # bytes after the last record separator

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if not self.in_quotes and b'"' not in chunk:
            self.lines += chunk.count(b"\n")
        else:
            for segment_index, segment in enumerate(chunk.split(b'"')):
                if segment_index:
                    self.in_quotes = not self.in_quotes
                if not self.in_quotes:
                    self.lines += segment.count(b"\n")
        self.pending = not chunk.endswith(b"\n")

    @property
    def data_rows(self) -> int:
        records = self.lines + (1 if self.pending else 0)
        return max(0, records - 1)  # the header line


class VobizHook(BaseHook):
    """Interact with the Vobiz CDR API.

    :param vobiz_conn_id: the Airflow connection of type ``vobiz`` (host = base URL, login = Auth ID,
        password = Auth Token). Extras: ``timeout``, ``max_retries``, ``retry_budget_seconds``,
        ``page_concurrency`` (and, mostly for tests, ``backoff_base_seconds``, ``backoff_max_seconds``,
        ``progress_interval_seconds``).
    :param timeout: overrides the connection's ``timeout`` (seconds per request).
    :param max_retries: overrides ``max_retries`` (retries after the first attempt).
    :param retry_budget_seconds: overrides ``retry_budget_seconds`` (total retry time of one request).
    :param page_concurrency: overrides ``page_concurrency`` (pages fetched at once).
    :param backoff_base_seconds: first backoff; doubles per retry, capped by ``backoff_max_seconds``.
    :param backoff_max_seconds: cap of one backoff.
    :param progress_interval_seconds: how often long loops log progress.
    """

    conn_name_attr = "vobiz_conn_id"
    default_conn_name = "vobiz_default"
    conn_type = "vobiz"
    hook_name = "Vobiz"

    def __init__(
        self,
        vobiz_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_budget_seconds: float | None = None,
        page_concurrency: int | None = None,
        backoff_base_seconds: float | None = None,
        backoff_max_seconds: float | None = None,
        progress_interval_seconds: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.vobiz_conn_id = vobiz_conn_id
        self._overrides = {
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_budget_seconds": retry_budget_seconds,
            "page_concurrency": page_concurrency,
            "backoff_base_seconds": backoff_base_seconds,
            "backoff_max_seconds": backoff_max_seconds,
            "progress_interval_seconds": progress_interval_seconds,
        }
        self._rng = random.Random()
        self.last_iteration: IterationStats | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vobiz_conn_id={self.vobiz_conn_id!r})"

    # ------------------------------------------------------------------ connection and client

    @cached_property
    def _settings(self) -> _Settings:
        conn = self.get_connection(self.vobiz_conn_id)
        token = conn.password or ""
        if token:
            # Before anything else can log it. (Airflow skips secrets shorter than 5 characters.)
            from airflow.sdk.log import mask_secret

            mask_secret(token)
        if not conn.login:
            raise ValueError(f"connection {self.vobiz_conn_id!r} has no login: set it to the Vobiz Auth ID")
        if not token:
            raise ValueError(
                f"connection {self.vobiz_conn_id!r} has no password: set it to the Vobiz Auth Token"
            )
        extra = dict(conn.extra_dejson or {})
        for key, value in self._overrides.items():
            if value is not None:
                extra[key] = value
        retry = RetryPolicy(
            max_retries=_extra_number(extra, "max_retries", DEFAULT_MAX_RETRIES, minimum=0, integer=True),
            budget_seconds=_extra_number(
                extra, "retry_budget_seconds", DEFAULT_RETRY_BUDGET, minimum=0, integer=False
            ),
            backoff_base=_extra_number(
                extra, "backoff_base_seconds", DEFAULT_BACKOFF_BASE, minimum=0, integer=False
            ),
            backoff_max=_extra_number(
                extra, "backoff_max_seconds", DEFAULT_BACKOFF_MAX, minimum=0, integer=False
            ),
        )
        concurrency = _extra_number(
            extra, "page_concurrency", DEFAULT_PAGE_CONCURRENCY, minimum=1, integer=True
        )
        if concurrency > MAX_PAGE_CONCURRENCY:
            raise ValueError(
                f"connection extra 'page_concurrency' must be <= {MAX_PAGE_CONCURRENCY}, got {concurrency}"
            )
        return _Settings(
            base_url=normalise_base_url(
                conn.host,
                conn.port,
                allow_insecure_http=str(extra.get("allow_insecure_http", "")).strip().lower()
                in ("true", "1", "yes"),
            ),
            auth_id=conn.login.strip(),
            token=token,
            timeout=_extra_number(extra, "timeout", DEFAULT_TIMEOUT, minimum=0.001, integer=False),
            retry=retry,
            page_concurrency=concurrency,
            progress_interval=_extra_number(
                extra, "progress_interval_seconds", DEFAULT_PROGRESS_INTERVAL, minimum=0, integer=False
            ),
        )

    @property
    def auth_id(self) -> str:
        """The connection's login (the Vobiz Auth ID, also the account in every path)."""
        return self._settings.auth_id

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._settings.retry

    @property
    def page_concurrency(self) -> int:
        return self._settings.page_concurrency

    @cached_property
    def client(self) -> httpx.Client:
        """The hook's one pooled client (thread-safe; shared by the page workers)."""
        from airflow_provider_vobiz import __version__

        s = self._settings
        pool = max(4, s.page_concurrency + 2)
        return httpx.Client(
            base_url=s.base_url,
            headers={
                "X-Auth-ID": s.auth_id,
                "X-Auth-Token": s.token,
                "User-Agent": f"airflow-provider-vobiz/{__version__}",
            },
            timeout=httpx.Timeout(s.timeout),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            # A redirect to another host would carry the token header along: never follow one.
            follow_redirects=False,
        )

    def get_conn(self) -> httpx.Client:
        return self.client

    def close(self) -> None:
        """Close the pooled client (a new one is opened on the next request)."""
        client = self.__dict__.pop("client", None)
        if client is not None:
            client.close()

    def __enter__(self) -> VobizHook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ low-level request machinery

    def _path(self, suffix: str = "") -> str:
        return f"/api/v1/Account/{quote(self.auth_id, safe='')}/cdr{suffix}"

    def _scrub(self, text: str) -> str:
        """The token hidden and phone numbers masked: API error bodies may echo a number filter back."""
        token = self.__dict__.get("_settings") and self._settings.token
        if token and token in text:
            text = text.replace(token, "***")
        return mask_text(text)

    def _error_text(self, response: httpx.Response) -> str | None:
        """The API's own error message from a failed response (JSON ``error``/``message``/``detail``)."""
        try:
            body = response.json()
        except ValueError:
            text = response.text.strip()
            return self._scrub(text[:300]) if text else None
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                error = error.get("message") or error.get("detail") or error
            message = body.get("message") or body.get("detail") or body.get("errors")
            if message and isinstance(error, str) and error and error != message:
                text = f"{message} ({error})"  # the sentence, then the API's error code
            else:
                text = message or error
            if text:
                return self._scrub(str(text)[:300])
        return self._scrub(str(body)[:300])

    @staticmethod
    def _request_id(response: httpx.Response) -> str | None:
        for name in REQUEST_ID_HEADERS:
            if response.headers.get(name):
                return response.headers[name]
        return None

    def _message(
        self,
        endpoint: str,
        what: str,
        detail: str,
        *,
        request_id: str | None = None,
        api_message: str | None = None,
    ) -> str:
        msg = f"Vobiz API {endpoint} ({what}): {detail}"
        if api_message:
            msg += f"; the API said: {api_message}"
        if request_id:
            msg += f" [request id {request_id}]"
        return self._scrub(msg)

    def _check_response(self, endpoint: str, what: str, response: httpx.Response) -> None:
        """Raise _Retryable for 429/5xx, a typed error for other non-2xx statuses; return on success."""
        status = response.status_code
        if 200 <= status < 300:
            return
        request_id = self._request_id(response)
        api_message = self._error_text(response)
        reason = f"HTTP {status} {response.reason_phrase}".strip()
        if status == 429 or status >= 500:
            raise _Retryable(
                "rate_limit" if status == 429 else "server",
                reason,
                status=status,
                request_id=request_id,
                api_message=api_message,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status in (401, 403):
            cls: type[VobizApiError] = VobizAuthError
            hint = (
                f"authentication failed: check the Auth ID (login) and Auth Token (password) of connection "
                f"{self.vobiz_conn_id!r}"
            )
            reason = f"{reason}, {hint}"
        elif status == 404:
            cls = VobizNotFoundError
        elif status == 400 or 400 <= status < 500:
            cls = VobizBadRequestError
        else:  # 1xx/3xx: redirects are never followed (they would carry the token elsewhere)
            cls = VobizApiError
            location = response.headers.get("location")
            if location:
                reason += f" (redirect to {location} not followed)"
        raise cls(
            self._message(endpoint, what, reason, request_id=request_id, api_message=api_message),
            endpoint=endpoint,
            status=status,
            request_id=request_id,
            api_message=api_message,
        )

    def _with_retries(
        self,
        endpoint: str,
        what: str,
        attempt_fn: Callable[[], T],
        policy: RetryPolicy | None = None,
        abort: threading.Event | None = None,
    ) -> T:
        """Run ``attempt_fn`` until it succeeds, a non-retryable error occurs, or attempts/budget run out."""
        policy = policy or self.retry_policy
        started = time.monotonic()
        retry = 0
        while True:
            try:
                return attempt_fn()
            except _RETRYABLE_TRANSPORT as exc:
                failure = _Retryable(
                    "transport", f"{type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'}"
                )
            except _Retryable as exc:
                failure = exc
            except httpx.HTTPError as exc:  # not worth retrying (e.g. an unsupported protocol): fail clearly
                raise VobizTransportError(
                    self._message(
                        endpoint, what, f"{type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'}"
                    ),
                    endpoint=endpoint,
                ) from None
            retry += 1
            attempts = retry
            if retry > policy.max_retries:
                cls = {"rate_limit": VobizRateLimitError, "server": VobizServerError}.get(
                    failure.kind, VobizTransportError
                )
                raise cls(
                    self._message(
                        endpoint,
                        what,
                        f"{failure.detail}, still failing after {attempts} attempt(s) (max_retries={policy.max_retries})",
                        request_id=failure.request_id,
                        api_message=failure.api_message,
                    ),
                    endpoint=endpoint,
                    status=failure.status,
                    request_id=failure.request_id,
                    api_message=failure.api_message,
                ) from None
            delay = policy.wait(retry, failure.retry_after, self._rng)
            elapsed = time.monotonic() - started
            if elapsed + delay > policy.budget_seconds:
                raise VobizRetryBudgetExceeded(
                    self._message(
                        endpoint,
                        what,
                        f"retry budget of {policy.budget_seconds:g}s exhausted after {attempts} attempt(s) in "
                        f"{elapsed:.1f}s (the next wait would be {delay:.1f}s); last failure: {failure.detail}",
                        request_id=failure.request_id,
                        api_message=failure.api_message,
                    ),
                    endpoint=endpoint,
                    status=failure.status,
                    request_id=failure.request_id,
                    api_message=failure.api_message,
                ) from None
            self.log.warning(
                "Vobiz API %s (%s): %s (attempt %d of %d); retrying in %.2fs%s",
                endpoint,
                what,
                failure.detail,
                attempts,
                policy.max_retries + 1,
                delay,
                " as Retry-After asked" if failure.retry_after is not None else "",
            )
            if abort is None:
                time.sleep(delay)
            elif abort.wait(delay):  # the iteration already failed or stopped: do not keep retrying
                raise VobizApiError(
                    self._message(endpoint, what, "abandoned: the iteration stopped"), endpoint=endpoint
                )

    def _get_json(
        self,
        endpoint: str,
        suffix: str,
        params: dict[str, str],
        what: str,
        policy: RetryPolicy | None = None,
        abort: threading.Event | None = None,
    ) -> Any:
        path = self._path(suffix)

        def attempt() -> Any:
            response = self.client.get(path, params=params, headers={"Accept": "application/json"})
            self._check_response(endpoint, what, response)
            try:
                # Bytes that are not UTF-8 inside one record's string become lone surrogates, so the cdr
                # layer quarantines that record instead of the whole page failing to decode.
                return json.loads(response.content.decode("utf-8", "surrogateescape"))
            except ValueError:
                raise VobizApiError(
                    self._message(
                        endpoint, what, f"HTTP {response.status_code} with a body that is not JSON"
                    ),
                    endpoint=endpoint,
                    status=response.status_code,
                    request_id=self._request_id(response),
                ) from None

        return self._with_retries(endpoint, what, attempt, policy, abort)

    # ------------------------------------------------------------------ the five endpoints

    def list_cdrs(self, page: int = 1, per_page: int = 20, **filters: Any) -> dict:
        """One page of the list endpoint: the API's JSON (``data``, ``pagination``, ``summary``, ...)."""
        page, per_page = check_page(page, per_page)
        params = {**build_filter_params(**filters), "page": str(page), "per_page": str(per_page)}
        return self._get_json("list", "", params, f"page {page}")

    def search_cdrs(self, page: int = 1, per_page: int = 20, **filters: Any) -> dict:
        """One page of the search endpoint: as list, plus ``filters`` echoing the filters applied."""
        page, per_page = check_page(page, per_page)
        params = {**build_filter_params(**filters), "page": str(page), "per_page": str(per_page)}
        return self._get_json("search", "/search", params, f"page {page}")

    def get_cdr(self, call_id: str) -> dict:
        """One CDR by its call id (the ``uuid``); :class:`VobizNotFoundError` if there is none."""
        call_id = check_call_id(call_id.strip() if isinstance(call_id, str) else call_id)
        body = self._get_json("single", "/" + call_id, {}, f"call {call_id}")
        if isinstance(body, dict) and "data" in body and isinstance(body["data"], dict | list):
            data = body["data"]
            if isinstance(data, list):
                if len(data) != 1:
                    raise VobizApiError(
                        f"Vobiz API single (call {call_id}): expected one CDR, got {len(data)}",
                        endpoint="single",
                    )
                return data[0]
            return data
        return body

    def recent(self, limit: int = 20) -> list[dict]:
        """The most recent CDRs (the endpoint returns only ``data``: no pagination, no summary)."""
        limit = check_limit(limit)
        body = self._get_json("recent", "/recent", {"limit": str(limit)}, f"limit {limit}")
        return body.get("data", []) if isinstance(body, dict) else list(body)

    def query_totals(self, **filters: Any) -> dict:
        """The API's reconciliation figures for a query from one cheap list request (per_page=1):
        ``{"total": pagination.total, "summary": {...}, "account_id": ...}``."""
        body = self.list_cdrs(page=1, per_page=1, **filters)
        return {
            "total": int((body.get("pagination") or {}).get("total", 0)),
            "summary": body.get("summary") or {},
            "account_id": body.get("account_id"),
        }

    # ------------------------------------------------------------------ iteration

    def _fetch_page(
        self, page: int, per_page: int, params: dict[str, str], abort: threading.Event | None = None
    ) -> CdrPage:
        body = self._get_json(
            "list", "", {**params, "page": str(page), "per_page": str(per_page)}, f"page {page}", abort=abort
        )
        pagination = body.get("pagination") or {}
        echoed = pagination.get("page")
        if echoed is not None and int(echoed) != page:
            # The classic silent-loss bug: the server (or a proxy cache) answering page 1 for every page.
            raise VobizPaginationError(
                f"Vobiz API list: asked for page {page} but the response is page {echoed}", endpoint="list"
            )
        return CdrPage(
            page=page,
            records=list(body.get("data") or []),
            account_id=body.get("account_id"),
            pagination=pagination,
            summary=body.get("summary"),
        )

    def iter_pages(self, per_page: int = MAX_PER_PAGE, **filters: Any) -> Iterator[CdrPage]:
        """Every page of a filtered list query, in page order.

        Pages 2..N are fetched ``page_concurrency`` at a time; each page retries on its own, so a fault costs
        that page's retry, never a restart. When the iterator is exhausted it checks that the distinct records
        yielded (by ``uuid``) equal page 1's ``pagination.total`` and raises :class:`VobizPaginationError`,
        naming the difference, the repeated uuids and the short pages, if not. Figures go to
        :attr:`last_iteration`.
        """
        _, per_page = check_page(1, per_page)
        params = build_filter_params(**filters)
        query = describe(params)
        stats = IterationStats(query=dict(params), per_page=per_page)
        self.last_iteration = stats
        started = time.monotonic()
        next_log = started + self._settings.progress_interval
        seen: set[str] = set()
        irregular: list[tuple[int, int, int]] = []  # (page, expected, got)
        totals_seen: set[int] = set()

        first = self._fetch_page(1, per_page, params)
        total = int(first.pagination.get("total", len(first.records)))
        computed_pages = -(-total // per_page) if total else 1
        api_pages = int(first.pagination.get("pages", computed_pages) or 0)
        # Read every page either figure implies (a drifting listing is longer than its total); pages past
        # that are followed while the last one says has_next.
        expected_pages = max(computed_pages, api_pages, 1)
        if api_pages != computed_pages and total:
            self.log.warning(
                "Vobiz API list (%s): pagination.pages=%d but total=%d / per_page=%d gives %d; paging %d pages",
                query,
                api_pages,
                total,
                per_page,
                computed_pages,
                expected_pages,
            )
        stats.api_total, stats.api_pages, stats.account_id, stats.summary = (
            total,
            api_pages,
            first.account_id,
            first.summary,
        )
        self.log.info(
            "Vobiz API list (%s): %d records in %d page(s) of %d, %d at a time",
            query,
            total,
            expected_pages,
            per_page,
            self.page_concurrency,
        )

        def account(page: CdrPage) -> None:
            expected = min(per_page, max(0, total - per_page * (page.page - 1)))
            if len(page.records) != expected:
                irregular.append((page.page, expected, len(page.records)))
            page_total = page.pagination.get("total")
            if page_total is not None:
                totals_seen.add(int(page_total))
            for record in page.records:
                uuid = record.get("uuid") if isinstance(record, dict) else None
                if uuid is None:
                    continue
                if uuid in seen:
                    stats.duplicates += 1
                    if len(stats.duplicate_uuids) < 100:
                        stats.duplicate_uuids.append(uuid)
                else:
                    seen.add(uuid)
            stats.pages += 1
            stats.records += len(page.records)
            stats.elapsed_s = time.monotonic() - started

        def progress(force: bool = False) -> None:
            nonlocal next_log
            now = time.monotonic()
            if force or now >= next_log:
                next_log = now + self._settings.progress_interval
                rate = stats.records / max(now - started, 1e-9)
                self.log.info(
                    "Vobiz API list: page %d/%d, %d/%d records, %.0f records/s",
                    stats.pages,
                    expected_pages,
                    stats.records,
                    total,
                    rate,
                )

        account(first)
        yield first
        progress()
        last = first
        if expected_pages > 1:
            for page in self._iter_rest(per_page, params, expected_pages, account, progress):
                last = page
                yield page
        extra = 0
        while last.pagination.get("has_next") and extra < MAX_EXTRA_PAGES:
            extra += 1
            self.log.warning(
                "Vobiz API list (%s): page %d says has_next beyond the %d page(s) announced; following it",
                query,
                last.page,
                expected_pages,
            )
            last = self._fetch_page(last.page + 1, per_page, params)
            account(last)
            yield last
        progress(force=True)

        stats.elapsed_s = time.monotonic() - started
        if stats.duplicates:
            self.log.warning(
                "Vobiz API list (%s): %d record(s) appeared on more than one page (e.g. %s); kept for the cdr "
                "layer to dedupe",
                query,
                stats.duplicates,
                ", ".join(stats.duplicate_uuids[:3]),
            )
        stats.unique_records = stats.records - stats.duplicates
        # Complete when the distinct records match the total. A record repeated at a page boundary (drift) is
        # harmless; but a repeat plus a page one record short keeps ``records == total`` while a call is
        # missing, so only the distinct count can vouch for the listing.
        if total != stats.unique_records:
            problems = [f"page {p} expected {e} got {g}" for p, e, g in irregular[:20]]
            if len(irregular) > 20:
                problems.append(f"and {len(irregular) - 20} more")
            drift = sorted(totals_seen - {total})
            repeated = ""
            if stats.duplicates:
                shown = ", ".join(stats.duplicate_uuids[:5])
                repeated = f" ({stats.records} rows, {stats.duplicates} repeated: {shown})"
            difference = stats.unique_records - total
            raise VobizPaginationError(
                f"Vobiz API list ({query}): paging yielded {stats.unique_records} distinct records{repeated} but "
                f"pagination.total was {total}: {abs(difference)} "
                + ("missing" if difference < 0 else "more than counted")
                + f" (difference {difference:+d}) over {stats.pages} page(s) of {per_page}"
                + (f"; pages off: {'; '.join(problems)}" if problems else "")
                + (f"; the total changed while paging to {drift}" if drift else ""),
                endpoint="list",
            )
        stats.complete = True

    def _iter_rest(
        self,
        per_page: int,
        params: dict[str, str],
        pages: int,
        account: Callable[[CdrPage], None],
        progress: Callable[[], None],
    ) -> Iterator[CdrPage]:
        """Pages 2..``pages`` in order (sequentially, or through a bounded window of worker threads)."""
        concurrency = self.page_concurrency
        if concurrency == 1:
            for number in range(2, pages + 1):
                page = self._fetch_page(number, per_page, params)
                account(page)
                yield page
                progress()
            return
        # A sliding window: at most `concurrency` pages in flight or waiting to be yielded, in page order.
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="vobiz-page")
        abort = threading.Event()
        window: deque[Future[CdrPage]] = deque()
        next_page = 2
        try:
            while window or next_page <= pages:
                while next_page <= pages and len(window) < concurrency:
                    window.append(pool.submit(self._fetch_page, next_page, per_page, params, abort))
                    next_page += 1
                page = window.popleft().result()
                account(page)
                yield page
                progress()
        finally:
            # On failure or an early stop, do not wait for pages still retrying: fail (or return) now.
            abort.set()
            pool.shutdown(wait=not window, cancel_futures=True)

    def iter_records(self, per_page: int = MAX_PER_PAGE, **filters: Any) -> Iterator[dict]:
        """Every record of a filtered query, in page order (same checks as :meth:`iter_pages`)."""
        for page in self.iter_pages(per_page=per_page, **filters):
            yield from page.records

    # ------------------------------------------------------------------ export

    def export_to(self, target: str | os.PathLike | IO[bytes], **filters: Any) -> ExportResult:
        """Stream the export endpoint's CSV to a file path or a binary stream, chunk by chunk.

        The CSV is never held in memory. The API documents no byte ranges, so a retry after a dropped
        connection restarts the request and truncates the target back to where it started (a path is
        rewritten from empty; a stream must then be seekable). If every attempt fails, a path target is
        removed, so a partial file is never mistaken for an export.
        """
        params = build_filter_params(**filters)
        query = describe(params)
        path = Path(target) if isinstance(target, str | os.PathLike) else None
        stream: IO[bytes] | None = None if path is not None else target
        start_pos: int | None = None
        if stream is not None and stream.seekable():
            start_pos = stream.tell()
        state = {"attempts": 0, "dirty": False}
        started = time.monotonic()
        interval = self._settings.progress_interval

        def attempt() -> tuple[int, int]:
            state["attempts"] += 1
            if stream is not None and state["dirty"]:
                if start_pos is None:
                    raise VobizTransportError(
                        f"Vobiz API export ({query}): the connection dropped mid-download and the target stream "
                        "is not seekable, so the export cannot be restarted; pass a path or a seekable stream",
                        endpoint="export",
                    )
                stream.seek(start_pos)
                stream.truncate()
            out = path.open("wb") if path is not None else stream
            counter = _CsvRowCounter()
            written = 0
            next_log = time.monotonic() + interval
            try:
                with self.client.stream(
                    "GET", self._path("/export"), params=params, headers={"Accept": "text/csv"}
                ) as response:
                    if response.status_code >= 300:
                        response.read()
                    self._check_response("export", query, response)
                    for chunk in response.iter_bytes(EXPORT_CHUNK_BYTES):
                        state["dirty"] = True
                        out.write(chunk)
                        counter.feed(chunk)
                        written += len(chunk)
                        if time.monotonic() >= next_log:
                            next_log = time.monotonic() + interval
                            secs = max(time.monotonic() - started, 1e-9)
                            self.log.info(
                                "Vobiz API export: %.1f MiB, ~%d rows, %.1f MiB/s",
                                written / 2**20,
                                counter.data_rows,
                                written / 2**20 / secs,
                            )
            finally:
                if path is not None:
                    out.close()
            return written, counter.data_rows

        try:
            written, rows = self._with_retries("export", query, attempt)
        except BaseException:
            if path is not None:
                path.unlink(missing_ok=True)
            elif stream is not None and start_pos is not None and state["dirty"]:
                stream.seek(start_pos)
                stream.truncate()
            raise
        if stream is not None:
            stream.flush()
        elapsed = time.monotonic() - started
        self.log.info(
            "Vobiz API export (%s): %d bytes, %d rows in %.2fs (%d attempt(s))",
            query,
            written,
            rows,
            elapsed,
            state["attempts"],
        )
        return ExportResult(
            bytes=written,
            rows=rows,
            path=str(path) if path is not None else None,
            attempts=state["attempts"],
            elapsed_s=elapsed,
        )

    # ------------------------------------------------------------------ UI

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: one list request (per_page=1), with at most two quick retries."""
        try:
            policy = RetryPolicy(
                max_retries=min(2, self.retry_policy.max_retries),
                budget_seconds=min(30.0, self.retry_policy.budget_seconds),
                backoff_base=min(1.0, self.retry_policy.backoff_base),
                backoff_max=min(5.0, self.retry_policy.backoff_max),
            )
            body = self._get_json("list", "", {"page": "1", "per_page": "1"}, "connection test", policy)
        except VobizAuthError as exc:
            return False, (
                f"Authentication failed (HTTP {exc.status}): Vobiz rejected Auth ID {self.auth_id!r} with this "
                f"Auth Token. Check login (Auth ID) and password (Auth Token)."
                + (f" The API said: {exc.api_message}" if exc.api_message else "")
            )
        except (VobizApiError, ValueError) as exc:
            return False, self._scrub(str(exc))
        except httpx.HTTPError as exc:  # e.g. an unsupported protocol
            return False, self._scrub(f"{type(exc).__name__}: {exc}")
        total = (body.get("pagination") or {}).get("total", "?") if isinstance(body, dict) else "?"
        return True, f"Connected to {self.base_url} as {self.auth_id}: {total} CDRs visible."
