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

The hook is the public face; its machinery lives beside it, one responsibility per module:
``config`` (the connection's settings), ``filters`` (query parameters), ``responses`` (statuses to errors),
``retry`` (the policy and the retry loop), ``pagination`` (paging and the reconciliation of the total),
``export`` (the streamed CSV) and ``request_log`` (phone numbers masked in httpx's request log).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import IO, Any, TypeVar
from urllib.parse import quote

import httpx
from airflow.sdk import BaseHook

from airflow_provider_vobiz.hooks import request_log
from airflow_provider_vobiz.hooks.config import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_MAX_RETRIES,
    DEFAULT_PAGE_CONCURRENCY,
    DEFAULT_PROGRESS_INTERVAL,
    DEFAULT_RETRY_BUDGET,
    DEFAULT_TIMEOUT,
    MAX_PAGE_CONCURRENCY,
    Settings,
    is_loopback,
    make_client,
    normalise_base_url,
    settings_from_connection,
)
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
from airflow_provider_vobiz.hooks.export import (
    EXPORT_CHUNK_BYTES,
    CsvRowCounter,
    ExportResult,
    ExportTarget,
    download,
)
from airflow_provider_vobiz.hooks.filters import (
    MAX_PER_PAGE,
    build_filter_params,
    check_call_id,
    check_limit,
    check_page,
    describe,
)
from airflow_provider_vobiz.hooks.pagination import (
    MAX_EXTRA_PAGES,
    CdrPage,
    IterationStats,
    PageTally,
    iter_window,
    page_from_body,
)
from airflow_provider_vobiz.hooks.responses import (
    REQUEST_ID_HEADERS,
    check_response,
    compose,
    decode_json,
    scrub,
    single_record,
)
from airflow_provider_vobiz.hooks.retry import Retryable, RetryPolicy, with_retries

T = TypeVar("T")

# Names callers import from here (the connection form, tests, code written against earlier releases), beside
# the hook itself; each is defined in the module of its concern.
__all__ = [
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_PAGE_CONCURRENCY",
    "DEFAULT_PROGRESS_INTERVAL",
    "DEFAULT_RETRY_BUDGET",
    "DEFAULT_TIMEOUT",
    "EXPORT_CHUNK_BYTES",
    "MAX_PAGE_CONCURRENCY",
    "REQUEST_ID_HEADERS",
    "CdrPage",
    "ExportResult",
    "IterationStats",
    "VobizApiError",
    "VobizAuthError",
    "VobizBadRequestError",
    "VobizHook",
    "VobizNotFoundError",
    "VobizPaginationError",
    "VobizRateLimitError",
    "VobizRetryBudgetExceeded",
    "VobizServerError",
    "VobizTransportError",
    "is_loopback",
    "normalise_base_url",
]
_CsvRowCounter = CsvRowCounter
_Retryable = Retryable

request_log.install()


def _page_params(page: Any, per_page: Any, filters: dict[str, Any]) -> dict[str, str]:
    """The query parameters of one page of list or search, checked."""
    page, per_page = check_page(page, per_page)
    return {**build_filter_params(**filters), "page": str(page), "per_page": str(per_page)}


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
    def _settings(self) -> Settings:
        return settings_from_connection(
            self.get_connection(self.vobiz_conn_id), self.vobiz_conn_id, self._overrides
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

        return make_client(self._settings, f"airflow-provider-vobiz/{__version__}")

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

    # ------------------------------------------------------------------ requests, errors and retries

    def _path(self, suffix: str = "") -> str:
        return f"/api/v1/Account/{quote(self.auth_id, safe='')}/cdr{suffix}"

    def _scrub(self, text: str) -> str:
        """The token hidden and phone numbers masked: API error bodies may echo a number filter back."""
        settings = self.__dict__.get("_settings")  # never read the connection just to scrub a message
        return scrub(text, settings.token if settings else None)

    def _message(self, endpoint: str, what: str, detail: str, **context: str | None) -> str:
        """:func:`~airflow_provider_vobiz.hooks.responses.compose` (``request_id``, ``api_message``), scrubbed."""
        return self._scrub(compose(endpoint, what, detail, **context))

    def _check_response(self, endpoint: str, what: str, response: httpx.Response) -> None:
        """Raise Retryable for 429/5xx, a typed error for other non-2xx statuses; return on success."""
        check_response(endpoint, what, response, conn_id=self.vobiz_conn_id, scrub=self._scrub)

    def _with_retries(
        self,
        endpoint: str,
        what: str,
        attempt_fn: Callable[[], T],
        policy: RetryPolicy | None = None,
        abort: threading.Event | None = None,
    ) -> T:
        """Run ``attempt_fn`` under the retry policy (the connection's unless ``policy`` is given)."""
        return with_retries(
            endpoint,
            what,
            attempt_fn,
            policy or self.retry_policy,
            rng=self._rng,
            log=self.log,
            message=self._message,
            scrub=self._scrub,
            abort=abort,
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
            return decode_json(response, endpoint, what, self._message)

        return self._with_retries(endpoint, what, attempt, policy, abort)

    # ------------------------------------------------------------------ the five endpoints

    def list_cdrs(self, page: int = 1, per_page: int = 20, **filters: Any) -> dict:
        """One page of the list endpoint: the API's JSON (``data``, ``pagination``, ``summary``, ...)."""
        params = _page_params(page, per_page, filters)
        return self._get_json("list", "", params, f"page {params['page']}")

    def search_cdrs(self, page: int = 1, per_page: int = 20, **filters: Any) -> dict:
        """One page of the search endpoint: as list, plus ``filters`` echoing the filters applied."""
        params = _page_params(page, per_page, filters)
        return self._get_json("search", "/search", params, f"page {params['page']}")

    def get_cdr(self, call_id: str) -> dict:
        """One CDR by its call id (the ``uuid``); :class:`VobizNotFoundError` if there is none."""
        call_id = check_call_id(call_id.strip() if isinstance(call_id, str) else call_id)
        body = self._get_json("single", "/" + call_id, {}, f"call {call_id}")
        return single_record(body, call_id)

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
        return page_from_body(body, page)

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
        first = self._fetch_page(1, per_page, params)
        tally = PageTally(stats, first, self.log, self._settings.progress_interval, started)
        tally.announce(query, self.page_concurrency)
        tally.account(first)
        yield first
        tally.progress()
        last = first

        def fetch(number: int, abort: threading.Event | None) -> CdrPage:
            return self._fetch_page(number, per_page, params, abort)

        for page in iter_window(fetch, 2, tally.expected_pages, self.page_concurrency):
            tally.account(page)
            last = page
            yield page
            tally.progress()
        extra = 0
        while last.pagination.get("has_next") and extra < MAX_EXTRA_PAGES:
            extra += 1
            self.log.warning(
                "Vobiz API list (%s): page %d says has_next beyond the %d page(s) announced; following it",
                query,
                last.page,
                tally.expected_pages,
            )
            last = self._fetch_page(last.page + 1, per_page, params)
            tally.account(last)
            yield last
        tally.progress(force=True)
        tally.finish(query)

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
        out_target = ExportTarget(target, query)
        started = time.monotonic()
        interval = self._settings.progress_interval

        def attempt() -> tuple[int, int]:
            return download(
                self.client,
                self._path("/export"),
                params,
                out_target,
                check=lambda response: self._check_response("export", query, response),
                log=self.log,
                started=started,
                interval=interval,
            )

        try:
            written, rows = self._with_retries("export", query, attempt)
        except BaseException:
            out_target.discard()
            raise
        out_target.finish()
        elapsed = time.monotonic() - started
        attempts = out_target.attempts
        self.log.info(
            "Vobiz API export (%s): %d bytes, %d rows in %.2fs (%d attempt(s))",
            query,
            written,
            rows,
            elapsed,
            attempts,
        )
        path = None if out_target.path is None else str(out_target.path)
        return ExportResult(bytes=written, rows=rows, path=path, attempts=attempts, elapsed_s=elapsed)

    # ------------------------------------------------------------------ UI

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: one list request (per_page=1), with at most two quick retries."""
        try:
            policy = self.retry_policy.at_most(2, budget_seconds=30.0, backoff_base=1.0, backoff_max=5.0)
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
