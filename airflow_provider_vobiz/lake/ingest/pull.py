"""What both ways of pulling a day (the export, the paged list) share: the query they are given, how they read
the hook's answers, and their progress lines."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.cdr.window import DayWindow

# The pipeline's one logger: its lines keep the name they always had.
log = logging.getLogger(__package__)


@dataclass(frozen=True)
class Pull:
    """One day's padded query, as a pull method is given it.

    :param hook: the API client (duck-typed: ``query_totals``, ``export_to``, ``iter_pages``).
    :param filters: the query's filters (the padded dates).
    :param tmp: a directory for the download and the spills, removed after the day.
    :param make_normalizer: a fresh normaliser with its own rejects file, one per parse.
    :param window: the partition's day.
    :param memory_limit: memory the day's assembly may hold before it spills.
    :param per_page: records per page of the list endpoint.
    """

    hook: Any
    filters: dict[str, str]
    tmp: str
    make_normalizer: Callable[[], Normalizer]
    window: DayWindow
    memory_limit: str
    per_page: int


def attr(obj: Any, name: str, default: Any = None) -> Any:
    """A field of what the hook returned: a dict's key or an object's attribute (the hook is duck-typed)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class Progress:
    """Logs records, batches and rows/s every ``every`` seconds."""

    def __init__(self, what: str, every: float = 10.0) -> None:
        self.what, self.every = what, every
        self.t0 = self.last = time.perf_counter()
        self.batches = 0

    def tick(self, records: int) -> None:
        self.batches += 1
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            log.info(
                "%s: %d records in %d batches, %.0f records/s",
                self.what,
                records,
                self.batches,
                records / max(now - self.t0, 1e-9),
            )

    def done(self, records: int) -> float:
        elapsed = time.perf_counter() - self.t0
        log.info(
            "%s: %d records in %d batches in %.2fs (%.0f records/s)",
            self.what,
            records,
            self.batches,
            elapsed,
            records / max(elapsed, 1e-9),
        )
        return elapsed
