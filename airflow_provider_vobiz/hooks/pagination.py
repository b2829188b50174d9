"""Paging a list query: pages fetched through a bounded window, yielded in order, and the count reconciled.

Iterating a query must yield exactly the ``pagination.total`` the API reported on page 1, counted in distinct
``uuid`` values, or :class:`VobizPaginationError` names the difference, the repeated uuids and the pages that
came back short. Pagination is where extractors of call logs lose data silently.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_vobiz.hooks.exceptions import VobizPaginationError
from airflow_provider_vobiz.hooks.filters import MAX_PER_PAGE

#: Pages followed past the announced count while the API keeps saying has_next (a bound, not a limit in use).
MAX_EXTRA_PAGES = 100


@dataclass
class CdrPage:
    """One page of a list query, as the API returned it."""

    page: int
    records: list[dict]
    account_id: str | None
    pagination: dict
    summary: dict | None = None


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


def page_from_body(body: dict, page: int) -> CdrPage:
    """A list response as a :class:`CdrPage`, refusing one that answers another page than asked."""
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


def iter_window(
    fetch: Callable[[int, threading.Event | None], CdrPage], first: int, last: int, concurrency: int
) -> Iterator[CdrPage]:
    """Pages ``first..last`` in order: one by one, or through a sliding window of ``concurrency`` threads.

    At most ``concurrency`` pages are in flight or waiting to be yielded, so memory stays bounded.
    """
    if last < first:
        return
    if concurrency == 1:
        for number in range(first, last + 1):
            yield fetch(number, None)
        return
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="vobiz-page")
    abort = threading.Event()
    window: deque[Future[CdrPage]] = deque()
    next_page = first
    try:
        while window or next_page <= last:
            while next_page <= last and len(window) < concurrency:
                window.append(pool.submit(fetch, next_page, abort))
                next_page += 1
            yield window.popleft().result()
    finally:
        # On failure or an early stop, do not wait for pages still retrying: fail (or return) now.
        abort.set()
        pool.shutdown(wait=not window, cancel_futures=True)


class PageTally:
    """Counts one iteration's pages against page 1's figures, logs progress, and checks the total at the end.

    :param stats: filled in place (the hook's ``last_iteration``).
    :param first: page 1, whose ``pagination`` announces the total and the pages.
    :param log: the hook's logger.
    :param progress_interval: seconds between progress lines.
    :param started: ``time.monotonic()`` when the iteration began.
    """

    def __init__(
        self,
        stats: IterationStats,
        first: CdrPage,
        log: logging.Logger,
        progress_interval: float,
        started: float,
    ) -> None:
        self.stats, self.log, self.interval, self.started = stats, log, progress_interval, started
        self.next_log = started + progress_interval
        self.per_page = stats.per_page
        self.total = int(first.pagination.get("total", len(first.records)))
        self.computed_pages = -(-self.total // self.per_page) if self.total else 1
        self.api_pages = int(first.pagination.get("pages", self.computed_pages) or 0)
        # Read every page either figure implies (a drifting listing is longer than its total); pages past
        # that are followed while the last one says has_next.
        self.expected_pages = max(self.computed_pages, self.api_pages, 1)
        self.seen: set[str] = set()
        self.irregular: list[tuple[int, int, int]] = []  # (page, expected, got)
        self.totals_seen: set[int] = set()
        stats.api_total, stats.api_pages = self.total, self.api_pages
        stats.account_id, stats.summary = first.account_id, first.summary

    def announce(self, query: str, concurrency: int) -> None:
        """Log what page 1 announced (and a pages/total disagreement)."""
        if self.api_pages != self.computed_pages and self.total:
            self.log.warning(
                "Vobiz API list (%s): pagination.pages=%d but total=%d / per_page=%d gives %d; paging %d pages",
                query,
                self.api_pages,
                self.total,
                self.per_page,
                self.computed_pages,
                self.expected_pages,
            )
        self.log.info(
            "Vobiz API list (%s): %d records in %d page(s) of %d, %d at a time",
            query,
            self.total,
            self.expected_pages,
            self.per_page,
            concurrency,
        )

    def account(self, page: CdrPage) -> None:
        """Count a page: its size against the total, the total it reports, and uuids already seen."""
        stats = self.stats
        expected = min(self.per_page, max(0, self.total - self.per_page * (page.page - 1)))
        if len(page.records) != expected:
            self.irregular.append((page.page, expected, len(page.records)))
        page_total = page.pagination.get("total")
        if page_total is not None:
            self.totals_seen.add(int(page_total))
        for record in page.records:
            uuid = record.get("uuid") if isinstance(record, dict) else None
            if uuid is None:
                continue
            if uuid in self.seen:
                stats.duplicates += 1
                if len(stats.duplicate_uuids) < 100:
                    stats.duplicate_uuids.append(uuid)
            else:
                self.seen.add(uuid)
        stats.pages += 1
        stats.records += len(page.records)
        stats.elapsed_s = time.monotonic() - self.started

    def progress(self, force: bool = False) -> None:
        """A progress line, at most every ``progress_interval`` seconds unless ``force``."""
        now = time.monotonic()
        if force or now >= self.next_log:
            self.next_log = now + self.interval
            rate = self.stats.records / max(now - self.started, 1e-9)
            self.log.info(
                "Vobiz API list: page %d/%d, %d/%d records, %.0f records/s",
                self.stats.pages,
                self.expected_pages,
                self.stats.records,
                self.total,
                rate,
            )

    def finish(self, query: str) -> None:
        """Close the figures; :class:`VobizPaginationError` unless the distinct records match the total."""
        stats = self.stats
        stats.elapsed_s = time.monotonic() - self.started
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
        if self.total != stats.unique_records:
            raise VobizPaginationError(self._mismatch(query), endpoint="list")
        stats.complete = True

    def _mismatch(self, query: str) -> str:
        stats, total = self.stats, self.total
        problems = [f"page {p} expected {e} got {g}" for p, e, g in self.irregular[:20]]
        if len(self.irregular) > 20:
            problems.append(f"and {len(self.irregular) - 20} more")
        drift = sorted(self.totals_seen - {total})
        repeated = ""
        if stats.duplicates:
            shown = ", ".join(stats.duplicate_uuids[:5])
            repeated = f" ({stats.records} rows, {stats.duplicates} repeated: {shown})"
        difference = stats.unique_records - total
        return (
            f"Vobiz API list ({query}): paging yielded {stats.unique_records} distinct records{repeated} but "
            f"pagination.total was {total}: {abs(difference)} "
            + ("missing" if difference < 0 else "more than counted")
            + f" (difference {difference:+d}) over {stats.pages} page(s) of {self.per_page}"
            + (f"; pages off: {'; '.join(problems)}" if problems else "")
            + (f"; the total changed while paging to {drift}" if drift else "")
        )
