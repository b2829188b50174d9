"""The day's orchestration: check the request, pull, check rejects and totals, write Parquet, publish."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.assemble import DayAssembler
from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.cdr.schema import DEFAULT_MAX_REJECT_RATIO, SCHEMA_VERSION
from airflow_provider_vobiz.cdr.window import DayWindow, utc_now_iso
from airflow_provider_vobiz.lake.ingest.errors import IngestError
from airflow_provider_vobiz.lake.ingest.export import pull_export
from airflow_provider_vobiz.lake.ingest.listing import pull_list
from airflow_provider_vobiz.lake.ingest.pull import Pull
from airflow_provider_vobiz.lake.ingest.quarantine import check_rejects, normalizer_factory
from airflow_provider_vobiz.lake.ingest.reconcile import PullCounts, check_account
from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import DEFAULT_LEASE_WAIT, PublishResult, publish_partition
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.lake.writer import (
    ROW_GROUP_ROWS,
    ROWS_PER_PART,
    LocalPart,
    PartWriter,
    file_metadata,
)

# The pipeline's one logger: its lines keep the name they always had.
log = logging.getLogger(__package__)

METHODS = ("export", "list")


def _provider_version() -> str:
    from airflow_provider_vobiz import __version__

    return __version__


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


# About 40 of its lines are the documented signature of a public entry point; the body is the day's steps.
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
    max_reject_ratio = _checked_arguments(method, max_reject_ratio)
    pad_days = int(pad_days)
    window = DayWindow.for_day(call_date, timezone)
    check_api_age(window, pad_days, max_api_age_days, today)
    t_start = time.perf_counter()
    request = _Request(
        account_id,
        window,
        timezone,
        method,
        window.query_filters(pad_days),
        per_page,
        max_reject_ratio,
        # When the pull began: of two pulls of the same day, the one that began later wins the publish.
        extracted_at=utc_now_iso(timespec="microseconds"),
    )
    day, filters = request.day, request.filters
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
        make_normalizer = normalizer_factory(tmp, account_id, window.plausible_starts(pad_days))
        pull = Pull(hook, filters, tmp, make_normalizer, window, memory_limit, per_page)
        counts, assembler, normalizer, stats = _pull_and_check(request, pull)
        parts, rows = _write_parts(
            assembler,
            os.path.join(tmp, "parts"),
            file_metadata(account_id, day, timezone),
            row_group_rows,
            rows_per_part,
        )
        rejects_path = normalizer.on_reject.close()
        manifest = _manifest(request, layout, rows, counts, normalizer, stats)
        result = publish_partition(
            storage, layout, manifest, parts, rejects_path, owner=owner, lease_wait=lease_wait
        )

    elapsed = time.perf_counter() - t_start
    log.info(
        "Day %s of %s done in %.2fs: %d rows (%.0f records read/s), %d rejected, changed=%s, restated=%s",
        day,
        account_id,
        elapsed,
        result.manifest["row_count"],
        normalizer.records_read / max(elapsed, 1e-9),
        normalizer.rejected,
        result.changed,
        result.restated,
    )
    return _summary(result, layout, account_id, day)


@dataclass(frozen=True)
class _Request:
    """The day as asked: what the manifest records about the pull besides its figures."""

    account_id: str
    window: DayWindow
    timezone: str
    method: str
    filters: dict[str, str]
    per_page: int
    max_reject_ratio: float
    extracted_at: str

    @property
    def day(self) -> str:
        return self.window.call_date.isoformat()


def _pull_and_check(
    request: _Request, pull: Pull
) -> tuple[PullCounts, DayAssembler, Normalizer, dict[str, Any]]:
    """Pull the day, then check the account, the rejects and the API's totals, in that order.

    :returns: the API's figures, the assembled day (ranked), its normaliser, and the assembly's counts.
    """
    counts, assembler, normalizer = (pull_export if request.method == "export" else pull_list)(pull)
    check_account(counts.account_id, request.account_id)
    check_rejects(normalizer, request.max_reject_ratio, f"{request.day} ({request.filters})")
    assembler.rank()
    stats = assembler.summary()
    distinct_read = normalizer.records_read - stats["duplicates"]
    counts.reconcile(normalizer.records_read, distinct_read, request.filters)
    return counts, assembler, normalizer, stats


def _manifest(
    request: _Request,
    layout: LakeLayout,
    rows: int,
    counts: PullCounts,
    normalizer: Normalizer,
    stats: dict[str, Any],
) -> dict[str, Any]:
    """The new version's manifest, before publishing fills in its parts, hashes, history and version."""
    account_id, day, method = request.account_id, request.day, request.method
    norm = normalizer.stats()
    query: dict[str, Any] = dict(request.filters)
    if method == "list":
        query["per_page"] = request.per_page
    return {
        "schema_version": SCHEMA_VERSION,
        "account_id": account_id,
        "call_date": day,
        "timezone": request.timezone,
        "window": request.window.as_json(),
        "row_count": rows,
        "source": {
            "endpoint": f"/api/v1/Account/{account_id}/cdr" + ("/export" if method == "export" else ""),
            "method": method,
            "query": query,
        },
        "reconciliation": _reconciliation(counts, normalizer, stats),
        "rejects": {
            "count": normalizer.rejected,
            "key": layout.rejects_key(account_id, day) if normalizer.rejected else None,
            "by_field": norm["reject_reasons"],
            "max_reject_ratio": request.max_reject_ratio,
        },
        "unknown_fields": norm["unknown_fields"],
        "missing_fields": norm["missing_fields"],
        "extracted_at": request.extracted_at,
        "provider_version": _provider_version(),
    }


def _checked_arguments(method: str, max_reject_ratio: float) -> float:
    """Fail on a method or reject ratio out of range; return the ratio as a float."""
    if method not in METHODS:
        raise IngestError(f"method must be one of {METHODS}, got {method!r}")
    max_reject_ratio = float(max_reject_ratio)
    if not 0 <= max_reject_ratio <= 1:
        raise IngestError(f"max_reject_ratio must be within [0, 1], got {max_reject_ratio}")
    return max_reject_ratio


def _write_parts(
    assembler: DayAssembler,
    parts_dir: str,
    metadata: dict[bytes, bytes],
    row_group_rows: int,
    rows_per_part: int,
) -> tuple[list[LocalPart], int]:
    """Write the day's sorted, deduped rows as Parquet part files in ``parts_dir``; return them and the rows."""
    os.mkdir(parts_dir)
    writer = PartWriter(parts_dir, metadata, row_group_rows=row_group_rows, rows_per_part=rows_per_part)
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
    return parts, writer.rows


def _reconciliation(counts: PullCounts, normalizer: Normalizer, stats: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``reconciliation``: the API's figures beside what was read, kept and dropped."""
    return {
        "api_total": counts.api_total,
        "summary_total": counts.summary_total,
        "export_rows": counts.export_rows,
        "records_read": normalizer.records_read,
        "rejected": normalizer.rejected,
        "distinct_read": normalizer.records_read - stats["duplicates"],
        "duplicates": stats["duplicates"],
        "outside_window": stats["outside_window"],
        "in_window": stats["in_window"],
        "matched": True,
    }


def _summary(result: PublishResult, layout: LakeLayout, account_id: str, day: str) -> dict[str, Any]:
    """What ``ingest_day`` returns: a small summary of the published manifest (it goes to XCom)."""
    published = Manifest.of(result.manifest)
    return {
        "account_id": account_id,
        "call_date": day,
        "row_count": published.row_count,
        "content_sha256": published.content_sha256,
        "changed": result.changed,
        "restated": result.restated,
        "superseded": result.superseded,
        "repaired": result.repaired,
        "rejects": published.rejects_count,
        "unknown_fields": sorted(published.unknown_fields),
        "parts": len(published.parts),
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
