"""One day of CDRs from the API into the lake: the plain-Python pipeline the transfer operator calls.

``ingest_day`` pulls the padded query (``/export`` CSV or the paged list), normalises it in batches, checks
the pull against the API's own total, keeps the day's window, dedupes, sorts, writes deterministic Parquet
and publishes the partition atomically. Memory is bounded by batches (cdr.assemble), not by the day.

The hook is duck-typed (``query_totals``, ``export_to``, ``iter_pages``) so this module imports no client
code (the lake never imports the API client) and tests may hand it anything that speaks that contract.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.assemble import DayAssembler
from airflow_provider_vobiz.cdr.normalize import (
    CSV_BLOCK_SIZE,
    Normalizer,
    batches_of,
    csv_header,
    iter_csv_batches,
    parse_header,
    quarantine_unreadable_rows,
)
from airflow_provider_vobiz.cdr.schema import SCHEMA_VERSION
from airflow_provider_vobiz.cdr.window import DayWindow, utc_now_iso
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import DEFAULT_LEASE_WAIT, publish_partition
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.lake.writer import ROW_GROUP_ROWS, ROWS_PER_PART, PartWriter, file_metadata
from airflow_provider_vobiz.privacy import mask_text

log = logging.getLogger(__name__)

METHODS = ("export", "list")
#: Default share of the records read that may be quarantined before the day fails (see ``check_rejects``).
DEFAULT_MAX_REJECT_RATIO = 0.01


class IngestError(RuntimeError):
    """The day cannot be ingested as asked (bad parameters, a date the API no longer keeps)."""


class ReconciliationError(IngestError):
    """The records read do not match what the API says the query holds; nothing was published."""


class RejectThresholdError(IngestError):
    """More records were quarantined than ``max_reject_ratio`` allows; nothing was published."""


def _provider_version() -> str:
    from airflow_provider_vobiz import __version__

    return __version__


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class _RejectFile:
    """``rejects.jsonl``: one ``{"reason", "record"}`` object per line, written as records are rejected."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self._fh: Any = None

    def __call__(self, record: dict[str, Any], reason: str) -> None:
        if self._fh is None:
            self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._fh.write(json.dumps({"reason": reason, "record": record}, default=str, sort_keys=True) + "\n")
        self.count += 1

    def close(self) -> str | None:
        if self._fh is not None:
            self._fh.close()
        return self.path if self.count else None


class _Progress:
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


@dataclass
class PullCounts:
    """What the API said about the query: the figures the records read are reconciled against.

    :param method: ``export`` or ``list``.
    :param api_total: ``pagination.total`` for the query (the list method: of its first page).
    :param account_id: the account the API answered for.
    :param summary_total: ``summary.totalCalls`` of a separate list request for the same query: an
        aggregate the API computes apart from its paging (the list method asks it after the last page).
    :param second_total: ``pagination.total`` of that separate request (the list method only).
    :param export_rows: data rows the export's byte stream held, counted by the hook (the export only).
    """

    method: str
    api_total: int
    account_id: str | None
    summary_total: int | None = None
    second_total: int | None = None
    export_rows: int | None = None

    @classmethod
    def from_totals(cls, method: str, totals: Any, **kw: Any) -> PullCounts:
        summary = _attr(totals, "summary") or {}
        calls = _attr(summary, "totalCalls")
        return cls(
            method=method,
            api_total=int(_attr(totals, "total")),
            account_id=_attr(totals, "account_id"),
            summary_total=int(calls) if calls is not None else None,
            **kw,
        )

    def reconcile(self, records_read: int, distinct_read: int, filters: dict[str, str]) -> None:
        """Raise :class:`ReconciliationError` naming each figure the records read disagree with.

        The list method's records must be distinct: a record repeated across pages plus a page one short
        keeps ``records == total`` while a call is missing. One stream (the export) may list a uuid twice
        and count it twice, so there either count may match. A ``pagination.total`` under-reported with
        pages and ``has_next`` consistent with it is caught by the summary's independent count.
        """
        read = (distinct_read,) if self.method == "list" else (records_read, distinct_read)
        problems: list[str] = []

        def compare(what: str, expected: int | None) -> None:
            if expected is not None and expected not in read:
                missing = expected - distinct_read
                problems.append(
                    f"{what} is {expected} ({abs(missing)} call(s) "
                    + ("missing" if missing > 0 else "more than expected")
                    + ")"
                )

        compare("pagination.total", self.api_total)
        compare("the summary's totalCalls (a second query)", self.summary_total)
        if self.second_total is not None and self.second_total != self.api_total:
            problems.append(f"pagination.total changed to {self.second_total} during the pull")
        if self.export_rows is not None and self.export_rows != records_read:
            problems.append(f"the export held {self.export_rows} data rows")
        if problems:
            raise ReconciliationError(
                f"read {records_read} records ({distinct_read} distinct) for {filters} with the {self.method} "
                f"method, but {'; '.join(problems)}. Records arrived or left during the pull, or the API lost "
                "some. Nothing was published; a retry pulls the day again."
            )


def check_api_age(
    window: DayWindow, pad_days: int, max_api_age_days: int | None, today: dt.date | None = None
) -> None:
    """Fail clearly when the padded query reaches further back than the API keeps CDRs."""
    if max_api_age_days is None:
        return
    today = today or dt.datetime.now(dt.timezone.utc).date()
    oldest = today - dt.timedelta(days=int(max_api_age_days))
    first, _ = window.query_dates(pad_days)
    if first < oldest:
        raise IngestError(
            f"call_date {window.call_date} is older than the Vobiz API keeps CDRs: the query would start on "
            f"{first}, and the API keeps {max_api_age_days} days (oldest {oldest}). Backfill this day from "
            "an export you kept, or lower pad_days if only the padding is too old."
        )


def check_rejects(normalizer: Normalizer, max_reject_ratio: float, what: str) -> None:
    """Fail when the rejected share of the records read exceeds ``max_reject_ratio``.

    A few bad records are quarantined and the day goes on; many mean the feed itself is wrong (a format
    change, a broken export), and publishing the rest would hide it.
    """
    read, rejected = normalizer.records_read, normalizer.rejected
    if not rejected or rejected <= max_reject_ratio * read:
        return
    counts = sorted(normalizer.reject_reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    reasons = ", ".join(f"{k}: {n}" for k, n in counts)
    raise RejectThresholdError(
        f"{rejected} of {read} records ({rejected / max(read, 1):.2%}) for {what} were rejected, over "
        f"max_reject_ratio {max_reject_ratio:g} ({int(max_reject_ratio * read)} allowed); by field: {reasons}. "
        "Nothing was published. If the feed is right and these records are expected, raise max_reject_ratio."
    )


def ingest_day(
    hook: Any,
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    timezone: str = "Asia/Kolkata",
    method: str = "export",
    pad_days: int = 1,
    *,
    max_api_age_days: int | None = None,
    today: dt.date | None = None,
    per_page: int = 100,
    workdir: str | None = None,
    memory_limit: str = "192MB",
    row_group_rows: int = ROW_GROUP_ROWS,
    rows_per_part: int = ROWS_PER_PART,
    owner: str | None = None,
    lease_wait: float = DEFAULT_LEASE_WAIT,
    max_reject_ratio: float = DEFAULT_MAX_REJECT_RATIO,
) -> dict[str, Any]:
    """Pull one day of ``account_id``'s CDRs and publish it; return a small summary of the manifest.

    :param hook: a Vobiz API client (``VobizHook``).
    :param storage: the lake's bucket.
    :param layout: the lake's keys.
    :param account_id: the partition's account; the API's account_id must be the same.
    :param call_date: the day, in ``timezone``, of the calls' ``start_time``.
    :param timezone: IANA timezone of the partition's day.
    :param method: ``export`` (one CSV) or ``list`` (paged JSON).
    :param pad_days: days asked for on each side of ``call_date``.
    :param max_api_age_days: how far back the API keeps CDRs (None: not checked here).
    :param rows_per_part: rows per part file (tests lower it to get many parts from a small day).
    :param owner: who publishes (the task instance: its retry takes over the lease a killed try left).
    :param lease_wait: seconds to wait while another run publishes the same day.
    :param max_reject_ratio: the share of the records read that may be quarantined (``rejects.jsonl``)
        before the day fails instead of being published without them.
    :raises ReconciliationError: the distinct records read differ from the API's total for the same query,
        or from an independent count (the ``summary`` of a second list query, the export's row count).
    :raises RejectThresholdError: more records were rejected than ``max_reject_ratio`` allows.
    """
    if method not in METHODS:
        raise IngestError(f"method must be one of {METHODS}, got {method!r}")
    max_reject_ratio = float(max_reject_ratio)
    if not 0 <= max_reject_ratio <= 1:
        raise IngestError(f"max_reject_ratio must be within [0, 1], got {max_reject_ratio}")
    pad_days = int(pad_days)
    window = DayWindow.for_day(call_date, timezone)
    day = window.call_date.isoformat()
    check_api_age(window, pad_days, max_api_age_days, today)
    filters = window.query_filters(pad_days)
    t_start = time.perf_counter()
    # When the pull began: of two pulls of the same day, the one that began later wins the publish.
    extracted_at = utc_now_iso(timespec="microseconds")
    _warm_up(storage)
    log.info(
        "Ingesting %s for account %s (%s window %s .. %s UTC) with %s, query %s",
        day,
        account_id,
        timezone,
        window.start.isoformat(),
        window.end.isoformat(),
        method,
        filters,
    )

    with _returning_pool(), tempfile.TemporaryDirectory(prefix="vobiz-ingest-", dir=workdir) as tmp:
        attempts: list[_RejectFile] = []

        def make_normalizer() -> Normalizer:
            # A fresh count and rejects file per parse (an export restarted by a retry is parsed again).
            attempts.append(_RejectFile(os.path.join(tmp, f"rejects-{len(attempts) + 1}.jsonl")))
            return Normalizer(account_id, on_reject=attempts[-1], plausible_starts=plausible)

        plausible = window.plausible_starts(pad_days)

        pull = _pull_export if method == "export" else _pull_list
        counts, assembler, normalizer = pull(
            hook, filters, tmp, make_normalizer, window, memory_limit=memory_limit, per_page=per_page
        )
        rejects = normalizer.on_reject
        api_total = counts.api_total
        _check_account(counts.account_id, account_id)
        check_rejects(normalizer, max_reject_ratio, f"{day} ({filters})")
        assembler.rank()
        stats = assembler.summary()
        distinct_read = normalizer.records_read - stats["duplicates"]
        counts.reconcile(normalizer.records_read, distinct_read, filters)

        parts_dir = os.path.join(tmp, "parts")
        os.mkdir(parts_dir)
        writer = PartWriter(
            parts_dir,
            file_metadata(account_id, day, timezone),
            row_group_rows=row_group_rows,
            rows_per_part=rows_per_part,
        )
        t_write = time.perf_counter()
        for table in assembler.tables():
            writer.write(table)
        parts = writer.close()
        log.info(
            "Wrote %d rows in %d part(s), %d bytes, in %.2fs",
            writer.rows,
            len(parts),
            sum(p.bytes for p in parts),
            time.perf_counter() - t_write,
        )
        norm = normalizer.stats()
        rejects_path = rejects.close()
        endpoint = f"/api/v1/Account/{account_id}/cdr" + ("/export" if method == "export" else "")
        query = dict(filters)
        if method == "list":
            query["per_page"] = per_page
        manifest: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "account_id": account_id,
            "call_date": day,
            "timezone": timezone,
            "window": window.as_json(),
            "row_count": writer.rows,
            "source": {"endpoint": endpoint, "method": method, "query": query},
            "reconciliation": {
                "api_total": api_total,
                "summary_total": counts.summary_total,
                "export_rows": counts.export_rows,
                "records_read": normalizer.records_read,
                "rejected": normalizer.rejected,
                "distinct_read": distinct_read,
                "duplicates": stats["duplicates"],
                "outside_window": stats["outside_window"],
                "in_window": stats["in_window"],
                "matched": True,
            },
            "rejects": {
                "count": normalizer.rejected,
                "key": layout.rejects_key(account_id, day) if normalizer.rejected else None,
                "by_field": norm["reject_reasons"],
                "max_reject_ratio": max_reject_ratio,
            },
            "unknown_fields": norm["unknown_fields"],
            "missing_fields": norm["missing_fields"],
            "extracted_at": extracted_at,
            "provider_version": _provider_version(),
        }
        result = publish_partition(
            storage, layout, manifest, parts, rejects_path, owner=owner, lease_wait=lease_wait
        )

    published = result.manifest
    elapsed = time.perf_counter() - t_start
    log.info(
        "Day %s of %s done in %.2fs: %d rows (%.0f records read/s), %d rejected, changed=%s, restated=%s",
        day,
        account_id,
        elapsed,
        published["row_count"],
        normalizer.records_read / max(elapsed, 1e-9),
        normalizer.rejected,
        result.changed,
        result.restated,
    )
    return {
        "account_id": account_id,
        "call_date": day,
        "row_count": published["row_count"],
        "content_sha256": published["content_sha256"],
        "changed": result.changed,
        "restated": result.restated,
        "superseded": result.superseded,
        "repaired": result.repaired,
        "rejects": published.get("rejects", {}).get("count", 0),
        "unknown_fields": sorted(published.get("unknown_fields") or {}),
        "parts": len(published.get("parts") or []),
        "manifest_key": layout.manifest_key(account_id, day),
        "partition_uri": layout.s3_uri(layout.partition_prefix(account_id, day)),
        "lake_uri": layout.uri,
    }


@contextlib.contextmanager
def _returning_pool() -> Iterator[None]:
    """Allocate Arrow memory from jemalloc while the day is ingested, where the platform has it.

    The default pool (mimalloc) keeps what a stage freed: the Parquet write, streaming row groups through,
    climbed about 90 MB higher with it at 1M calls than with jemalloc, which hands freed pages back. The
    previous default is restored afterwards (buffers remember the pool they came from).
    """
    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowNotImplementedError):
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _warm_up(storage: Any) -> None:
    """Create the S3 client on a side thread while the API is read.

    Importing the Amazon provider, fetching the connection and loading botocore's models take one to two
    seconds that would otherwise come after the Parquet write, on the critical path. A failure here is left
    for the publish to meet and report in the task's own thread.
    """

    def warm() -> None:
        try:
            storage.connect()
        except Exception:
            log.debug("Creating the S3 client ahead of the publish failed; the publish will retry it")

    threading.Thread(target=warm, name="vobiz-s3-warm-up", daemon=True).start()


def _check_account(api_account: str | None, account_id: str) -> None:
    if api_account is not None and api_account != account_id:
        raise IngestError(
            f"the API answered for account {api_account!r}, but the partition is for {account_id!r}: "
            "check the connection's Auth ID and the operator's account_id"
        )


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


def _pull_export(
    hook: Any,
    filters: dict[str, str],
    tmp: str,
    make_normalizer: Callable[[], Normalizer],
    window: DayWindow,
    *,
    memory_limit: str,
    per_page: int,
) -> tuple[PullCounts, DayAssembler, Normalizer]:
    """``/export``: the reference total first (list endpoint, same filters), then one streamed CSV.

    The CSV is parsed while it downloads, typed by the reader (the fast path). A quoted value may hold CR or
    LF, which only the reader's slower ``newlines_in_values`` mode keeps in one record: it is chosen when the
    first block holds a quote. If a quote first shows later, the streamed parse stops, and the finished file
    is parsed again in that mode. If the download needed a retry (the hook restarts it from an empty file),
    what was parsed meanwhile is thrown away and the finished file is parsed again. If the typed read meets
    a cell it cannot convert, the finished file is read as text (one bad cell rejects one record); if that
    meets a line it cannot take (not UTF-8, longer than two blocks), those lines are quarantined first
    (:func:`quarantine_unreadable_rows`).
    """
    normalizer = make_normalizer()
    totals = hook.query_totals(**filters)
    counts = PullCounts.from_totals("export", totals)
    _check_account(counts.account_id, normalizer.account_id)
    csv_path = os.path.join(tmp, "export.csv")
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def download() -> None:
        try:
            outcome["result"] = hook.export_to(csv_path, **filters)
        except BaseException as err:  # re-raised in the task's thread
            outcome["error"] = err
        finally:
            done.set()

    def new_attempt() -> tuple[Normalizer, DayAssembler]:
        fresh = make_normalizer()
        attempt_dir = _attempt_dir(tmp, fresh.on_reject.path)
        return fresh, DayAssembler(
            window, attempt_dir, expected_rows=counts.api_total, memory_limit=memory_limit
        )

    t0 = time.perf_counter()
    thread = threading.Thread(target=download, name="vobiz-export-download", daemon=True)
    thread.start()
    assembler = DayAssembler(
        window, _attempt_dir(tmp, "first"), expected_rows=counts.api_total, memory_limit=memory_limit
    )
    parse_error: Exception | None = None
    late_quote = False  # a quote first read past the first block: the streamed parse is not to be trusted
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
    except Exception as err:  # judged once the download is over: a restarted download explains it
        parse_error = err
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    exported = outcome["result"]
    size = _attr(exported, "bytes") or os.path.getsize(csv_path)
    elapsed = max(time.perf_counter() - t0, 1e-9)
    log.info(
        "Exported %d bytes of CSV in %.2fs (%.1f MB/s), parsed as it came",
        size,
        elapsed,
        size / 1e6 / elapsed,
    )
    if (_attr(exported, "attempts") or 1) > 1:
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
    rows = _attr(exported, "rows")
    counts.export_rows = int(rows) if rows is not None else None
    return counts, assembler, normalizer


#: How an export CSV is read, fastest first: each next one after the one before met a cell or a line it
#: cannot take. ``typed``: the reader converts the documented columns itself; ``text``: every column as text,
#: so one bad cell rejects one record; ``quarantine``: lines that are not UTF-8 or too long for the reader
#: are quarantined first, then ``text``.
_READS = ("typed", "text", "quarantine")


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
    progress = _Progress("Normalising export CSV")
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


def _pull_list(
    hook: Any,
    filters: dict[str, str],
    tmp: str,
    make_normalizer: Callable[[], Normalizer],
    window: DayWindow,
    *,
    memory_limit: str,
    per_page: int,
) -> tuple[PullCounts, DayAssembler, Normalizer]:
    """The paged list endpoint: its ``pagination.total`` is the reference; after the last page, a second
    query's ``summary`` (and total) is the independent count."""
    normalizer = make_normalizer()
    pages = hook.iter_pages(per_page=per_page, **filters)
    api_total: int | None = None
    api_account: str | None = None
    assembler: DayAssembler | None = None
    progress = _Progress("Reading CDR pages")

    def records() -> Iterator[Any]:
        nonlocal api_total, api_account, assembler
        for page in pages:
            pagination = _attr(page, "pagination") or {}
            total = _attr(pagination, "total")
            if api_total is None and total is not None:
                api_total = int(total)
            account = _attr(page, "account_id")
            if account is not None:
                if api_account is None:
                    api_account = account
                    _check_account(api_account, normalizer.account_id)
                elif account != api_account:
                    raise IngestError(f"the API changed account mid-pull: {api_account!r} then {account!r}")
            yield from _attr(page, "records") or []

    for chunk in batches_of(records(), 1000):
        if assembler is None:
            assembler = DayAssembler(window, tmp, expected_rows=api_total, memory_limit=memory_limit)
        assembler.add(normalizer.from_records(chunk))
        progress.tick(normalizer.records_read)
    progress.done(normalizer.records_read)
    if assembler is None:
        assembler = DayAssembler(window, tmp, expected_rows=0, memory_limit=memory_limit)
    second = PullCounts.from_totals("list", hook.query_totals(**filters))
    if api_total is None:  # no page at all (the hook yields none for an empty result)
        api_total = second.api_total
    counts = PullCounts(
        method="list",
        api_total=api_total,
        account_id=api_account or second.account_id,
        summary_total=second.summary_total,
        second_total=second.api_total,
    )
    return counts, assembler, normalizer
