"""One day of CDRs from the API into the lake: the plain-Python pipeline the transfer operator calls.

``ingest_day`` pulls the padded query (``/export`` CSV or the paged list), normalises it in batches, checks
the pull against the API's own total, keeps the day's window, dedupes, sorts, writes deterministic Parquet
and publishes the partition atomically. Memory is bounded by batches (cdr.assemble), not by the day.

The hook is duck-typed (``query_totals``, ``export_to``, ``iter_pages``) so this module imports no client
code (DESIGN §11) and tests may hand it anything that speaks that contract.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from airflow_provider_vobiz.cdr.assemble import DayAssembler
from airflow_provider_vobiz.cdr.normalize import Normalizer, batches_of, iter_csv_batches, parse_header
from airflow_provider_vobiz.cdr.schema import SCHEMA_VERSION
from airflow_provider_vobiz.cdr.window import DayWindow
from airflow_provider_vobiz.lake.manifest import utc_now_iso
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import DEFAULT_LEASE_WAIT, publish_partition
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.lake.writer import ROW_GROUP_ROWS, ROWS_PER_PART, PartWriter, file_metadata

log = logging.getLogger(__name__)

METHODS = ("export", "list")


class IngestError(RuntimeError):
    """The day cannot be ingested as asked (bad parameters, a date the API no longer keeps)."""


class ReconciliationError(IngestError):
    """The records read do not match what the API says the query holds; nothing was published."""


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
    :raises ReconciliationError: the records read differ from the API's total for the same query.
    """
    if method not in METHODS:
        raise IngestError(f"method must be one of {METHODS}, got {method!r}")
    pad_days = int(pad_days)
    window = DayWindow.for_day(call_date, timezone)
    day = window.call_date.isoformat()
    check_api_age(window, pad_days, max_api_age_days, today)
    filters = window.query_filters(pad_days)
    t_start = time.perf_counter()
    # When the pull began: of two pulls of the same day, the one that began later wins the publish.
    extracted_at = utc_now_iso(timespec="microseconds")
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

    with tempfile.TemporaryDirectory(prefix="vobiz-ingest-", dir=workdir) as tmp:
        attempts: list[_RejectFile] = []

        def make_normalizer() -> Normalizer:
            # A fresh count and rejects file per parse (an export restarted by a retry is parsed again).
            attempts.append(_RejectFile(os.path.join(tmp, f"rejects-{len(attempts) + 1}.jsonl")))
            return Normalizer(account_id, on_reject=attempts[-1])

        pull = _pull_export if method == "export" else _pull_list
        api_total, api_account, assembler, normalizer = pull(
            hook, filters, tmp, make_normalizer, window, memory_limit=memory_limit, per_page=per_page
        )
        rejects = normalizer.on_reject
        _check_account(api_account, account_id)
        assembler.rank()
        stats = assembler.summary()
        # A listing that drifts repeats a record at a page boundary without counting it twice: the distinct
        # records must then match. Either way every record the API counted was read.
        distinct_read = normalizer.records_read - stats["duplicates"]
        if api_total not in (normalizer.records_read, distinct_read):
            raise ReconciliationError(
                f"read {normalizer.records_read} records ({distinct_read} distinct) for {filters} but the API "
                f"reports a total of {api_total} for the same query: records arrived or left during the "
                "pull, or pages were lost. Nothing was published; a retry pulls the day again."
            )

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
        while not os.path.exists(path) and not done.is_set():
            time.sleep(0.002)
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            finished = self._done.is_set()  # read after checking: no bytes are missed at the end
            n = self._fh.readinto(buffer)
            if n or finished:
                return n or 0
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
) -> tuple[int, str | None, DayAssembler, Normalizer]:
    """``/export``: the reference total first (list endpoint, same filters), then one streamed CSV.

    The CSV is parsed while it downloads. If the download needed a retry (the hook restarts it from an
    empty file), what was parsed meanwhile is thrown away and the finished file is parsed again.
    """
    normalizer = make_normalizer()
    totals = hook.query_totals(**filters)
    api_total = int(_attr(totals, "total"))
    api_account = _attr(totals, "account_id")
    _check_account(api_account, normalizer.account_id)
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

    t0 = time.perf_counter()
    thread = threading.Thread(target=download, name="vobiz-export-download", daemon=True)
    thread.start()
    assembler = DayAssembler(window, _attempt_dir(tmp, 1), expected_rows=api_total, memory_limit=memory_limit)
    parse_error: Exception | None = None
    try:
        source = _GrowingFile(csv_path, done)
        try:
            names = parse_header(source.first_line())
            _parse_csv(source, names, normalizer, assembler)
        finally:
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
        normalizer = make_normalizer()
        assembler = DayAssembler(
            window, _attempt_dir(tmp, 2), expected_rows=api_total, memory_limit=memory_limit
        )
        _parse_csv(csv_path, None, normalizer, assembler)
    elif parse_error is not None:
        raise parse_error
    os.remove(csv_path)  # the spills hold what is needed; free the disk early
    rows = _attr(exported, "rows")
    if rows is not None and int(rows) != normalizer.records_read:
        raise ReconciliationError(
            f"the export reported {rows} data rows but {normalizer.records_read} were read from it"
        )
    return api_total, api_account, assembler, normalizer


def _attempt_dir(tmp: str, attempt: int) -> str:
    path = os.path.join(tmp, f"spill-{attempt}")
    os.makedirs(path, exist_ok=True)
    return path


def _parse_csv(source: Any, names: list[str] | None, normalizer: Normalizer, assembler: DayAssembler) -> None:
    progress = _Progress("Normalising export CSV")
    for batch in iter_csv_batches(source, names=names):
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
) -> tuple[int, str | None, DayAssembler, Normalizer]:
    """The paged list endpoint: its ``pagination.total`` is the reference."""
    normalizer = make_normalizer()
    pages = hook.iter_pages(per_page=per_page, **filters)
    api_total: int | None = None
    api_account: str | None = None
    assembler: DayAssembler | None = None
    progress = _Progress("Reading CDR pages")

    def records() -> Iterator[dict[str, Any]]:
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
    if api_total is None:
        # No page at all (the hook yields none for an empty result): ask for the total directly.
        totals = hook.query_totals(**filters)
        api_total = int(_attr(totals, "total"))
        api_account = api_account or _attr(totals, "account_id")
    return api_total, api_account, assembler, normalizer
