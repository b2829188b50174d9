"""The simulator's data as the API serves it: cached days, queries (filters, summary), records by position.

The day's calls are generated in :mod:`.generate`, a block of them is rendered into served records in
:mod:`.render` (JSON and CSV text in :mod:`.block`); this module keeps what has been computed and answers
the endpoints' questions: which calls match, in which order, and their text.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from .block import Block
from .caching import Cold, cached_only, need
from .columns import iso, uuids
from .config import SimulatorConfig
from .generate import BLOCK, ID_BASE, INBOUND, Catalog, DayCore, DayView
from .malformed import HOSTILE_VALUES, MULTILINE_VALUES, parse_served
from .render import field_names, render_block, uuid_bytes


@dataclass(frozen=True)
class Filters:
    from_number: int | None = None
    to_number: int | None = None
    lo: int | None = None  # epoch window [lo, hi) on start_time
    hi: int | None = None
    direction: int | None = None  # 0 inbound, 1 outbound
    min_duration: int | None = None


@dataclass
class Selection:
    """The calls matching a query, in ascending (start_time, id) order, with the summary figures."""

    days: np.ndarray
    rows: np.ndarray
    summary: dict

    def __len__(self) -> int:
        return len(self.rows)


class Dataset:
    """The simulator's data: cached day cores, day views per clock, rendered blocks, query results."""

    def __init__(self, cfg: SimulatorConfig) -> None:
        self.cfg = cfg
        self.catalog = Catalog.build(cfg)
        self._lock = threading.RLock()
        self._cores: dict[int, DayCore] = {}
        self._views: OrderedDict[tuple[int, int], DayView] = OrderedDict()
        self._blocks: OrderedDict[tuple[int, int, int], Block] = OrderedDict()
        self._queries: OrderedDict[tuple, Selection] = OrderedDict()
        self._uuid_index: dict[str, tuple[int, int]] = {}
        self._uuid_days: set[int] = set()

    # -- days ---------------------------------------------------------------------------------------------
    def core(self, d: int) -> DayCore:
        with self._lock:
            c = self._cores.get(d)
            if c is None:
                need("core")
                c = self._cores[d] = DayCore(self.cfg, self.catalog, d)
            return c

    def view(self, d: int, now: int) -> DayView:
        with self._lock:
            key = (d, now)
            v = self._views.get(key)
            if v is None:
                need("view")
                v = self._views[key] = DayView.build(self.core(d), now)
                while len(self._views) > 4 * self.cfg.days + 8:
                    self._views.popitem(last=False)
            else:
                self._views.move_to_end(key)
            return v

    def days_overlapping(self, lo: int | None, hi: int | None) -> range:
        first, n = self.cfg.first_epoch, self.cfg.days
        a = 0 if lo is None else max(0, (lo - first) // 86400)
        b = n if hi is None else min(n, -(-(hi - first) // 86400))
        return range(int(a), int(max(a, b)))

    # -- queries ------------------------------------------------------------------------------------------
    def _mask(self, v: DayView, f: Filters) -> np.ndarray:
        c = v.core
        m = v.visible.copy()
        if f.lo is not None:
            m &= c.start >= f.lo
        if f.hi is not None:
            m &= c.start < f.hi
        if f.from_number is not None:
            m &= c.caller == f.from_number
        if f.to_number is not None:
            m &= c.dest == f.to_number
        if f.direction is not None:
            m &= (c.kind != INBOUND) == bool(f.direction)
        if f.min_duration is not None:
            m &= v.duration >= f.min_duration
        return m

    def select(self, f: Filters, now: int) -> Selection:
        key = (f, now)
        with self._lock:
            hit = self._queries.get(key)
            if hit is not None:
                self._queries.move_to_end(key)
                return hit
        need("select")
        days, rows = [], []
        calls = answered = dur = bill = 0
        cost = 0.0
        last = None
        for d in self.days_overlapping(f.lo, f.hi):
            v = self.view(d, now)
            idx = np.flatnonzero(self._mask(v, f))
            if not len(idx):
                continue
            days.append(np.full(len(idx), d, dtype=np.int32))
            rows.append(idx.astype(np.int32))
            b = v.billsec[idx]
            calls += len(idx)
            answered += int((b > 0).sum())
            dur += int(v.duration[idx].sum())
            bill += int(b.sum())
            cost += float(v.total_cost[idx].sum())
            last = int(v.core.start[idx[-1]])
        summary = {
            "totalCalls": calls,
            "answeredCalls": answered,
            "answerRate": round(100.0 * answered / calls, 1) if calls else 0.0,
            # The documented example (61211 billable s / 2171 answered = "28s") is the average talk time
            # of answered calls, not total duration over all calls (26 s there).
            "avgCallDuration": f"{round(bill / answered) if answered else 0}s",
            "total_duration_seconds": dur,
            "total_billable_seconds": bill,
            "total_cost": round(cost, 2),
            "last_call_at": iso(last) if last is not None else None,
        }
        sel = Selection(
            np.concatenate(days) if days else np.zeros(0, np.int32),
            np.concatenate(rows) if rows else np.zeros(0, np.int32),
            summary,
        )
        with self._lock:
            self._queries[key] = sel
            # at most 64 queries and 8M selected rows (64 MB of indices) remembered
            while len(self._queries) > 1 and (
                len(self._queries) > 64 or sum(len(x) for x in self._queries.values()) > 8_000_000
            ):
                self._queries.popitem(last=False)
        return sel

    # -- rendering ----------------------------------------------------------------------------------------
    def block(self, d: int, k: int, now: int) -> Block:
        v = self.view(d, now)
        lo, hi = k * BLOCK, min(v.core.n, (k + 1) * BLOCK)
        key = (d, k, int(v.updated[lo:hi].sum()))  # the updated set is a threshold on now: its size names it
        with self._lock:
            b = self._blocks.get(key)
            if b is not None:
                self._blocks.move_to_end(key)
                return b
        need("block")
        b = render_block(self.cfg, self.catalog, v, k, lo, hi)
        with self._lock:
            self._blocks[key] = b
            budget = self.cfg.cache_mb * 1024 * 1024
            while len(self._blocks) > 1 and sum(x.nbytes for x in self._blocks.values()) > budget:
                self._blocks.popitem(last=False)
        return b

    def json_records(self, days: np.ndarray, rows: np.ndarray, now: int) -> list[bytes]:
        """The served JSON text of the records at (day, row) pairs, in the given order."""
        out: list[bytes] = []
        i, n = 0, len(rows)
        while i < n:
            d, k = int(days[i]), int(rows[i]) // BLOCK
            j = i + 1
            while j < n and days[j] == d and rows[j] // BLOCK == k:
                j += 1
            out.extend(self.block(d, k, now).json_rows(rows[i:j].astype(np.int64) - k * BLOCK))
            i = j
        return out

    def dicts(self, days: np.ndarray, rows: np.ndarray, now: int) -> list[Any]:
        """The records as parsed from their served JSON (a malformed one may be a list or a string)."""
        return [parse_served(b) for b in self.json_records(days, rows, now)]

    def csv_chunks(self, sel: Selection, now: int, chunk: int = 1 << 20) -> Iterator[bytes | memoryview]:
        """The selection as CSV lines in ascending order, in chunks of about ``chunk`` bytes.

        The next block is rendered on a second thread while this one is sent (numpy and Arrow release the
        GIL); at most two blocks are in flight, so memory stays bounded whatever the size of the day.
        """
        days, rows = sel.days, sel.rows
        segments: list[tuple[int, int, int, int]] = []  # (day, block, first, end) runs of the selection
        i, n = 0, len(rows)
        while i < n:
            d, k = int(days[i]), int(rows[i]) // BLOCK
            j = int(np.searchsorted(days, d, side="right"))
            # rows are ascending within a day: the end of this block's run by binary search
            j = i + int(np.searchsorted(rows[i:j], (k + 1) * BLOCK))
            segments.append((d, k, i, j))
            i = j

        def prepare(seg: tuple[int, int, int, int]) -> Block:
            b = self.block(seg[0], seg[1], now)
            b.csv()
            return b

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vobiz-sim-render")
        try:
            ahead: Future | None = pool.submit(prepare, segments[0]) if segments else None
            pending: list[bytes | memoryview] = []
            size = 0
            for s_i, (_, k, i, j) in enumerate(segments):
                block = ahead.result()  # type: ignore[union-attr]
                ahead = pool.submit(prepare, segments[s_i + 1]) if s_i + 1 < len(segments) else None
                mv = memoryview(block.csv_rows(rows[i:j].astype(np.int64) - k * BLOCK))
                for off in range(0, len(mv), chunk):
                    part = mv[off : off + chunk]
                    pending.append(part)
                    size += len(part)
                    if size >= chunk:
                        yield b"".join(pending) if len(pending) > 1 else pending[0]
                        pending, size = [], 0
            if pending:
                yield b"".join(pending)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def header(self) -> bytes:
        return (",".join(field_names(self.cfg)) + "\n").encode()

    # -- single-record lookup -----------------------------------------------------------------------------
    def locate(self, call_id: str) -> tuple[int, int] | None:
        """(day, row) of a call by uuid or numeric id, or None."""
        if call_id.isdigit():
            i = int(call_id) - ID_BASE
            if 0 <= i < self.cfg.days * self.cfg.calls_per_day:
                return divmod(i, self.cfg.calls_per_day)
            return None
        call_id = call_id.lower()
        with self._lock:
            hit = self._uuid_index.get(call_id)
            if hit is not None:
                return hit
            need("uuid index")
            for d in range(self.cfg.days):
                if d in self._uuid_days:
                    continue
                n = self.cfg.calls_per_day
                for k in range(0, max(1, math.ceil(n / BLOCK))):
                    lo, hi = k * BLOCK, min(n, (k + 1) * BLOCK)
                    _, raw = uuid_bytes(self.cfg.seed, d, k, hi - lo)
                    for j, u in enumerate(uuids(raw).to_pylist()):
                        self._uuid_index[u] = (d, lo + j)
                self._uuid_days.add(d)
                hit = self._uuid_index.get(call_id)
                if hit is not None:
                    return hit
        return None


def day_window(start: date, end: date, tz: str) -> tuple[int, int]:
    """[start 00:00, end+1 00:00) in ``tz`` as epoch seconds: inclusive calendar days."""
    from zoneinfo import ZoneInfo

    z = ZoneInfo(tz)
    lo = datetime.combine(start, time(0), z).timestamp()
    hi = datetime.combine(end + timedelta(days=1), time(0), z).timestamp()
    return int(lo), int(hi)


__all__ = [
    "HOSTILE_VALUES",
    "MULTILINE_VALUES",
    "Cold",
    "Dataset",
    "Filters",
    "Selection",
    "cached_only",
    "day_window",
]
