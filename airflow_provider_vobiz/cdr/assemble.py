"""One day out of a padded pull: window, dedupe and sort, with memory bounded by batches, not by the day.

How, without the day in memory (an external sort over spilled runs):

1. Every normalised batch adds its keys (``seq``, ``uuid``, ``updated_at``, in-window flag) to a small local
   Parquet spill, and its in-window rows to one of ``n`` local Arrow IPC spill files, each a slice of the
   window in time (``n`` grows with the expected rows, so each slice stays small).
2. DuckDB, with a memory limit and a temp directory (it spills rather than grows), ranks the keys: per
   ``uuid`` the latest ``updated_at`` wins, ties go to the record read last. The losers are only the
   duplicates, so they are few.
3. Slices are read back in time order (memory-mapped), losers dropped, each slice sorted by
   ``start_time, uuid``: the concatenation is the day, sorted, each call once.

The window is applied after dedupe in effect: a call whose latest version starts outside the window is not
kept even if an older version started inside it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, SORT_KEYS
from airflow_provider_vobiz.cdr.window import DayWindow

log = logging.getLogger(__name__)

_KEY_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64()),
        pa.field("uuid", pa.string()),
        pa.field("updated_at", FILE_SCHEMA.field("updated_at").type),
        pa.field("in_window", pa.bool_()),
    ]
)
_SPILL_SCHEMA = FILE_SCHEMA.append(pa.field("__seq", pa.int64()))
_MAX_SLICES = 512
_KEY_FLUSH_ROWS = 65_536
#: In-window rows buffered before they are split into time slices (about 30 MB of CDRs).
_ROW_FLUSH_ROWS = 65_536


class DayAssembler:
    """Collects a padded pull's batches and yields the day's rows, deduplicated and sorted.

    :param window: the partition's day window.
    :param workdir: a local directory for the spills (removed by the caller).
    :param expected_rows: rows the pull will bring (the API's total), to size the time slices.
    :param rows_per_slice: target rows per time slice held in memory at once.
    :param memory_limit: DuckDB's memory limit for ranking the keys (it spills beyond).
    """

    def __init__(
        self,
        window: DayWindow,
        workdir: str,
        expected_rows: int | None = None,
        rows_per_slice: int = 25_000,
        memory_limit: str = "192MB",
    ) -> None:
        self.window = window
        self.workdir = workdir
        self.memory_limit = memory_limit
        slices = math.ceil((expected_rows or 1_000_000) / max(rows_per_slice, 1))
        self.n_slices = max(1, min(_MAX_SLICES, slices))
        self._start_us = _micros(window.start)
        span = _micros(window.end) - self._start_us
        self._width_us = max(1, math.ceil(span / self.n_slices))
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self._keys_path = os.path.join(workdir, "keys.parquet")
        self._keys = pq.ParquetWriter(self._keys_path, _KEY_SCHEMA, compression="none")
        self._key_buf: list[pa.RecordBatch] = []
        self._key_buf_rows = 0
        self._row_buf: list[pa.RecordBatch] = []
        self._row_buf_rows = 0
        # While rows arrive in start_time order (an export usually does), they go to one sequential run
        # file, unsorted-by-slice; the first row out of order switches to slicing.
        self._in_order = True
        self._last_us: int | None = None
        self._run_path = os.path.join(workdir, "run.arrow")
        self._run: pa.ipc.RecordBatchFileWriter | None = None
        self.rows_in = 0
        self.rows_in_window = 0
        self.stats: dict[str, int] = {}
        self._losers: pa.Array | None = None

    # -- collecting ------------------------------------------------------------------------------------
    def add(self, batch: pa.RecordBatch) -> None:
        """Take one normalised batch (:data:`FILE_SCHEMA`)."""
        n = batch.num_rows
        if not n:
            return
        seq = pa.array(np.arange(self.rows_in, self.rows_in + n, dtype=np.int64))
        self.rows_in += n
        st = batch.column("start_time")
        inside = pc.and_(
            pc.greater_equal(st, pa.scalar(self.window.start, st.type)),
            pc.less(st, pa.scalar(self.window.end, st.type)),
        )
        self._add_keys(
            pa.RecordBatch.from_arrays(
                [seq, batch.column("uuid"), batch.column("updated_at"), inside], schema=_KEY_SCHEMA
            )
        )
        rows = pa.RecordBatch.from_arrays([*batch.columns, seq], schema=_SPILL_SCHEMA)
        if not pc.all(inside).as_py():  # a padded pull: most batches are wholly inside or outside
            rows = rows.filter(inside)
        if not rows.num_rows:
            return
        self.rows_in_window += rows.num_rows
        if self._in_order:
            us = rows.column("start_time").cast(pa.int64()).to_numpy()
            if (self._last_us is None or us[0] >= self._last_us) and bool(np.all(us[1:] >= us[:-1])):
                self._last_us = int(us[-1])
                if self._run is None:
                    self._run = pa.ipc.new_file(self._run_path, _SPILL_SCHEMA)
                self._run.write_batch(rows)
                return
            self._in_order = False
            log.info("Records arrive out of start_time order: sorting through %d time slices", self.n_slices)
        # Buffer a few batches so that each row is moved once, in few large writes per slice.
        self._row_buf.append(rows)
        self._row_buf_rows += rows.num_rows
        if self._row_buf_rows >= _ROW_FLUSH_ROWS:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if not self._row_buf:
            return
        rows = pa.Table.from_batches(self._row_buf, schema=_SPILL_SCHEMA)
        self._row_buf, self._row_buf_rows = [], 0
        us = rows.column("start_time").cast(pa.int64()).to_numpy()
        slice_of = (us - self._start_us) // self._width_us
        order = np.argsort(slice_of, kind="stable")
        slice_sorted = slice_of[order]
        rows = rows.take(pa.array(order))
        bounds = np.flatnonzero(np.diff(slice_sorted)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(slice_sorted)]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            self._writer(int(slice_sorted[a])).write_table(rows.slice(a, b - a))

    def _add_keys(self, keys: pa.RecordBatch) -> None:
        self._key_buf.append(keys)
        self._key_buf_rows += keys.num_rows
        if self._key_buf_rows >= _KEY_FLUSH_ROWS:
            self._flush_keys()

    def _flush_keys(self) -> None:
        if self._key_buf:
            self._keys.write_table(pa.Table.from_batches(self._key_buf, schema=_KEY_SCHEMA))
            self._key_buf, self._key_buf_rows = [], 0

    def _writer(self, index: int) -> pa.ipc.RecordBatchFileWriter:
        writer = self._writers.get(index)
        if writer is None:
            writer = pa.ipc.new_file(self._slice_path(index), _SPILL_SCHEMA)
            self._writers[index] = writer
        return writer

    def _slice_path(self, index: int) -> str:
        return os.path.join(self.workdir, f"slice-{index:05d}.arrow")

    # -- emitting --------------------------------------------------------------------------------------
    def _rank(self) -> np.ndarray:
        """Seqs of in-window rows that lose to a later version of their uuid; fills :attr:`stats`."""
        import duckdb

        self._flush_keys()
        self._keys.close()
        t0 = time.perf_counter()
        con = duckdb.connect(config={"memory_limit": self.memory_limit, "threads": 2})
        try:
            tmp = os.path.join(self.workdir, "duckdb-tmp")
            con.execute("SET temp_directory = '" + tmp.replace("'", "''") + "'")
            con.execute("SET preserve_insertion_order = false")
            keys = "read_parquet('" + self._keys_path.replace("'", "''") + "')"
            # Hash-aggregate first: ranking only the uuids seen twice is much cheaper than ranking all.
            losers = con.sql(
                f"""
                WITH dup AS (SELECT uuid FROM {keys} GROUP BY uuid HAVING count(*) > 1)
                SELECT seq, in_window FROM (
                    SELECT k.seq, k.in_window, row_number() OVER (
                        PARTITION BY k.uuid ORDER BY k.updated_at DESC NULLS LAST, k.seq DESC) AS rn
                    FROM {keys} AS k SEMI JOIN dup ON k.uuid = dup.uuid
                ) WHERE rn > 1
                """
            ).to_arrow_table()
        finally:
            con.close()
        duplicates = losers.num_rows
        inside = losers.filter(losers.column("in_window")).column("seq")
        kept = self.rows_in_window - len(inside)
        self.stats = {
            "rows_in": self.rows_in,
            "duplicates": duplicates,
            "outside_window": self.rows_in - duplicates - kept,
            "in_window": kept,
        }
        log.info(
            "Ranked %d records by uuid in %.2fs: %d duplicates dropped, %d outside the window, %d kept",
            self.rows_in,
            time.perf_counter() - t0,
            duplicates,
            self.stats["outside_window"],
            kept,
        )
        return np.sort(inside.to_numpy()) if len(inside) else np.empty(0, dtype=np.int64)

    def tables(self) -> Iterator[pa.Table]:
        """The day's rows as tables of :data:`FILE_SCHEMA`, in ``start_time, uuid`` order.

        Only a bounded part of the day is in memory at a time: one time slice, or one chunk of the run.
        """
        losers = self.rank()
        if self._in_order and self._run is not None:
            yield from self._tables_from_run(losers)
            return
        for index in sorted(self._writers):
            path = self._slice_path(index)
            with pa.memory_map(path, "r") as source:
                table = pa.ipc.open_file(source).read_all()
                table = _finish(table, losers)
            os.remove(path)
            if table.num_rows:
                yield table

    def rank(self) -> pa.Array:
        """Close the spills and find the duplicates (once); :attr:`stats` is filled after this."""
        if self._losers is not None:
            return self._losers
        if self._run is not None:
            self._run.close()
            if not self._in_order:  # rows in order at first, then not: slice the in-order run too
                # Read, not memory-mapped: mapped pages would count in RSS until the whole run is closed.
                with pa.OSFile(self._run_path, "rb") as source:
                    reader = pa.ipc.open_file(source)
                    for i in range(reader.num_record_batches):
                        batch = reader.get_batch(i)
                        self._row_buf.append(batch)
                        self._row_buf_rows += batch.num_rows
                        if self._row_buf_rows >= _ROW_FLUSH_ROWS:
                            self._flush_rows()
                    self._flush_rows()
                os.remove(self._run_path)
        self._flush_rows()
        for writer in self._writers.values():
            writer.close()
        self._losers = pa.array(self._rank())
        return self._losers

    def _tables_from_run(self, losers: pa.Array) -> Iterator[pa.Table]:
        """Rows already in start_time order: cut chunks at a change of start_time, sort each by uuid too."""
        with pa.OSFile(self._run_path, "rb") as source:  # read, not mapped: see tables()
            reader = pa.ipc.open_file(source)
            buf: list[pa.RecordBatch] = []
            buffered = 0
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                buf.append(batch)
                buffered += batch.num_rows
                if buffered < _ROW_FLUSH_ROWS:
                    continue
                chunk = pa.Table.from_batches(buf, schema=_SPILL_SCHEMA)
                us = chunk.column("start_time").cast(pa.int64()).to_numpy()
                # Rows sharing the last start_time may continue in the next batch: hold them back.
                cut = int(np.searchsorted(us, us[-1], side="left"))
                if cut == 0:
                    continue
                table = _finish(chunk.slice(0, cut), losers)
                rest = chunk.slice(cut)
                buf, buffered = rest.to_batches(), rest.num_rows
                if table.num_rows:
                    yield table
            if buffered:
                table = _finish(pa.Table.from_batches(buf, schema=_SPILL_SCHEMA), losers)
                if table.num_rows:
                    yield table
        os.remove(self._run_path)

    def summary(self) -> dict[str, Any]:
        return dict(self.stats)


def _finish(table: pa.Table, losers: pa.Array) -> pa.Table:
    """Drop the losers of dedupe, sort by start_time then uuid, drop the spill's sequence column.

    sort_by gathers into new buffers, so nothing refers to a memory-mapped spill once it is closed.
    """
    if len(losers):
        table = table.filter(pc.invert(pc.is_in(table.column("__seq"), value_set=losers)))
    return table.sort_by(list(SORT_KEYS)).drop_columns(["__seq"])


def _micros(ts: Any) -> int:
    import datetime as dt

    delta = ts.astimezone(dt.timezone.utc) - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
