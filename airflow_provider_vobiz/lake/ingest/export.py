"""The export path: ``/export``'s one CSV, parsed while it downloads, read again a slower way when it must be.

The reference total comes first (the list endpoint, same filters), then the CSV. The streamed parse is typed
by the reader (the fast path). A quoted value may hold CR or LF, which only the reader's slower
``newlines_in_values`` mode keeps in one record: it is chosen when the first block holds a quote. If a quote
first shows later, the streamed parse stops, and the finished file is parsed again in that mode. If the
download needed a retry (the hook restarts it from an empty file), what was parsed meanwhile is thrown away
and the finished file is parsed again. If the typed read meets a cell it cannot convert, the finished file is
read as text (one bad cell rejects one record); if that meets a line it cannot take (not UTF-8, longer than
two blocks), those lines are quarantined first (:func:`quarantine_unreadable_rows`).
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.assemble import DayAssembler
from airflow_provider_vobiz.cdr.export_csv import (
    CSV_BLOCK_SIZE,
    csv_header,
    iter_csv_batches,
    parse_header,
    quarantine_unreadable_rows,
)
from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.lake.ingest.errors import IngestError
from airflow_provider_vobiz.lake.ingest.pull import Progress, Pull, attr
from airflow_provider_vobiz.lake.ingest.reconcile import PullCounts, check_account
from airflow_provider_vobiz.privacy import mask_text

# The pipeline's one logger: its lines keep the name they always had.
log = logging.getLogger(__package__)

#: How an export CSV is read, fastest first: each next one after the one before met a cell or a line it
#: cannot take. ``typed``: the reader converts the documented columns itself; ``text``: every column as text,
#: so one bad cell rejects one record; ``quarantine``: lines that are not UTF-8 or too long for the reader
#: are quarantined first, then ``text``.
_READS = ("typed", "text", "quarantine")


def pull_export(pull: Pull) -> tuple[PullCounts, DayAssembler, Normalizer]:
    """``/export``: the reference total first (list endpoint, same filters), then one streamed CSV.

    :returns: the API's figures, the day's records assembled, and the normaliser of the parse that counts.
    """
    normalizer = pull.make_normalizer()
    totals = pull.hook.query_totals(**pull.filters)
    counts = PullCounts.from_totals("export", totals)
    check_account(counts.account_id, normalizer.account_id)
    csv_path = os.path.join(pull.tmp, "export.csv")

    def new_attempt() -> tuple[Normalizer, DayAssembler]:
        fresh = pull.make_normalizer()
        attempt_dir = _attempt_dir(pull.tmp, fresh.on_reject.path)
        return fresh, DayAssembler(
            pull.window, attempt_dir, expected_rows=counts.api_total, memory_limit=pull.memory_limit
        )

    t0 = time.perf_counter()
    download = _Download(pull.hook, csv_path, pull.filters)
    assembler = DayAssembler(
        pull.window,
        _attempt_dir(pull.tmp, "first"),
        expected_rows=counts.api_total,
        memory_limit=pull.memory_limit,
    )
    parse_error, late_quote = _parse_as_it_downloads(csv_path, download.done, normalizer, assembler)
    exported = download.result()
    size = attr(exported, "bytes") or os.path.getsize(csv_path)
    elapsed = max(time.perf_counter() - t0, 1e-9)
    log.info(
        "Exported %d bytes of CSV in %.2fs (%.1f MB/s), parsed as it came",
        size,
        elapsed,
        size / 1e6 / elapsed,
    )
    if (attr(exported, "attempts") or 1) > 1:
        log.info("The export was restarted by a retry: parsing the finished file again")
        normalizer, assembler = _read_finished(csv_path, _READS, new_attempt)
    elif late_quote:
        log.info("The export quotes values past its first block: parsing the finished file again")
        normalizer, assembler = _read_finished(csv_path, _READS, new_attempt)
    elif isinstance(parse_error, pa.ArrowInvalid):
        _log_read_failure("typed", parse_error)
        normalizer, assembler = _read_finished(csv_path, _READS[1:], new_attempt)
    elif parse_error is not None:
        raise parse_error
    os.remove(csv_path)  # the spills hold what is needed; free the disk early
    rows = attr(exported, "rows")
    counts.export_rows = int(rows) if rows is not None else None
    return counts, assembler, normalizer


class _Download:
    """``hook.export_to(path)`` on a side thread, started at once; :attr:`done` is set when it ends."""

    def __init__(self, hook: Any, path: str, filters: dict[str, str]) -> None:
        self.done = threading.Event()
        self._outcome: dict[str, Any] = {}
        self._thread = threading.Thread(
            target=self._run, args=(hook, path, filters), name="vobiz-export-download", daemon=True
        )
        self._thread.start()

    def _run(self, hook: Any, path: str, filters: dict[str, str]) -> None:
        try:
            self._outcome["result"] = hook.export_to(path, **filters)
        except BaseException as err:  # re-raised in the task's thread
            self._outcome["error"] = err
        finally:
            self.done.set()

    def result(self) -> Any:
        """Wait for the download; its result (re-raising its error here)."""
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["result"]


def _parse_as_it_downloads(
    csv_path: str, done: threading.Event, normalizer: Normalizer, assembler: DayAssembler
) -> tuple[Exception | None, bool]:
    """Parse the export while it downloads (typed: the fast path).

    :returns: the error that stopped the parse (judged once the download is over: a restarted download
        explains it), and whether a quote first showed past the first block (the parse is not to be trusted).
    """
    parse_error: Exception | None = None
    late_quote = False
    try:
        source = _GrowingFile(csv_path, done)
        quoted = False
        try:
            names = parse_header(source.first_line())
            quoted = b'"' in source.head(CSV_BLOCK_SIZE)
            stop = None if quoted else (lambda: source.saw_quote)
            _parse_csv(source, names, normalizer, assembler, typed=True, newlines=quoted, stop=stop)
        finally:
            late_quote = source.saw_quote and not quoted
            source.close()
    except Exception as err:
        parse_error = err
    return parse_error, late_quote


class _GrowingFile(io.RawIOBase):
    """Reads a file while another thread is still writing it: a read at the end waits for more bytes
    until the writer is done. Lets the CSV parse run while the export downloads."""

    def __init__(self, path: str, done: threading.Event) -> None:
        super().__init__()
        self._done = done
        #: Whether the bytes read so far hold a double quote (then a value may hold a newline).
        self.saw_quote = False
        while not os.path.exists(path) and not done.is_set():
            time.sleep(0.002)
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            finished = self._done.is_set()  # read after checking: no bytes are missed at the end
            n = self._fh.readinto(buffer)
            if n and not self.saw_quote:
                # RawIOBase.read passes a bytearray: find is a memchr, no copy
                chunk = buffer if isinstance(buffer, bytearray) else memoryview(buffer)[:n].tobytes()
                self.saw_quote = chunk.find(b'"', 0, n) >= 0
            if n or finished:
                return n or 0
            time.sleep(0.002)

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes, once written (or all, once the download is over); consumes nothing."""
        while True:
            finished = self._done.is_set()
            if finished or os.path.getsize(self._fh.name) >= size:
                with open(self._fh.name, "rb") as fh:
                    return fh.read(size)
            time.sleep(0.002)

    def first_line(self) -> str:
        """The header line, once complete (consumes nothing: the parser reads from the start)."""
        while True:
            finished = self._done.is_set()
            with open(self._fh.name, "rb") as fh:
                line = fh.readline()
            if line.endswith(b"\n") or finished:
                return line.decode("utf-8")
            time.sleep(0.002)

    def close(self) -> None:
        self._fh.close()
        super().close()


def _log_read_failure(how: str, err: Exception) -> None:
    # pyarrow's message may quote the raw row: only a masked, shortened form reaches the log.
    log.info("The %s CSV read stopped (%s): trying the next way", how, mask_text(str(err))[:200])


def _read_finished(
    csv_path: str, reads: tuple[str, ...], new_attempt: Callable[[], tuple[Normalizer, DayAssembler]]
) -> tuple[Normalizer, DayAssembler]:
    """Parse the downloaded export with each way of ``reads`` in turn until one reads it all."""
    error: Exception | None = None
    for how in reads:
        normalizer, assembler = new_attempt()
        try:
            if how == "quarantine":
                clean_path = csv_path + ".clean"
                try:
                    names = quarantine_unreadable_rows(csv_path, clean_path, normalizer)
                    _parse_csv(clean_path, names, normalizer, assembler)
                finally:
                    if os.path.exists(clean_path):
                        os.remove(clean_path)
            else:
                _parse_csv(csv_path, None, normalizer, assembler, typed=how == "typed")
            return normalizer, assembler
        except pa.ArrowInvalid as err:
            _log_read_failure(how, err)
            error = err
    raise IngestError(f"the export CSV cannot be read: {mask_text(str(error))[:300]}")


def _attempt_dir(tmp: str, attempt: str) -> str:
    path = os.path.join(tmp, "spill-" + os.path.basename(attempt).split(".")[0])
    os.makedirs(path, exist_ok=True)
    return path


def _parse_csv(
    source: Any,
    names: list[str] | None,
    normalizer: Normalizer,
    assembler: DayAssembler,
    typed: bool = False,
    newlines: bool | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Normalise an export CSV into the assembler.

    :param newlines: whether a quoted value may span lines (see :func:`iter_csv_batches`).
    :param stop: checked after each batch: True ends the parse early (its result is to be thrown away).
    """
    if names is None:
        names = csv_header(source)
    progress = Progress("Normalising export CSV")
    handler = normalizer.invalid_row_handler(names)
    batches = iter_csv_batches(
        source,
        block_size=CSV_BLOCK_SIZE,
        names=names,
        invalid_row_handler=handler,
        typed=typed,
        newlines_in_values=newlines,
    )
    for batch in batches:
        if stop is not None and stop():
            break
        assembler.add(normalizer.from_csv_batch(batch))
        progress.tick(normalizer.records_read)
    progress.done(normalizer.records_read)
