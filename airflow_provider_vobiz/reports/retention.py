"""TRAI retention inventory: does the lake hold every day of the retention window, intact?

The Unified Licence amendment of 21 Dec 2021 requires the licensee to keep CDRs "for at least two years"
(docs/retention.md). For an as-of date ``T`` the window is ``T`` minus two *calendar* years up to
``T - 1`` (731 days when it holds a 29 February). For each day the inventory states::

    status          present | missing | failed_quality | checksum_mismatch
    rows, bytes     from the manifest (bytes as listed on S3)
    hash_check      ok | mismatch | n/a; "manifest" mode compares the listed object sizes and ETags with the
                    manifest and the manifest's own hashes (content_sha256 over the parts' sha256s, rows over
                    the parts); "full" mode also re-reads and re-hashes every part (lake.integrity, the same
                    check the quality operator runs)
    quality, reconciliation, object lock retain-until, restatements, legal hold, expires_on

How it stays fast: one paginated listing of the account's prefix (sizes of every part and which days have a
manifest), then the manifests of the window's days fetched concurrently on a thread pool. No Parquet is read in
"manifest" mode except for the law-enforcement field completeness, which reads only its seven columns (of a
sample of days by default, of every day with ``completeness="full"``).

Plain functions, no Airflow: the operator (operators/retention_report.py) only wires context and connections.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.schema import CALL_DIRECTIONS, E164_PATTERN
from airflow_provider_vobiz.cdr.window import (
    DEFAULT_REPULL_DAYS,
    PROVISIONAL,
    local_today,
    settled_from,
    status_on,
)
from airflow_provider_vobiz.lake.integrity import VERIFY_MODES, clean_etag, part_problems, sha256_of
from airflow_provider_vobiz.lake.manifest import QUALITY_FAILED, content_sha256, manifest_sha256
from airflow_provider_vobiz.lake.paths import REPORT_CONTENT_TYPES, REPORT_FORMATS
from airflow_provider_vobiz.lake.records import part_keys_of, read_legal_hold, read_object_lock, read_quality
from airflow_provider_vobiz.lake.retention import (
    DEFAULT_RETENTION_YEARS,
    expires_on,
    retention_window,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)

REPORT_NAME = "trai_retention"
EXPIRY_HORIZON_DAYS = 30

STATUS_PRESENT = "present"
STATUS_MISSING = "missing"
STATUS_FAILED_QUALITY = "failed_quality"
STATUS_CHECKSUM_MISMATCH = "checksum_mismatch"
STATUSES = (STATUS_PRESENT, STATUS_MISSING, STATUS_FAILED_QUALITY, STATUS_CHECKSUM_MISMATCH)

COMPLETENESS_MODES = ("sample", "full", "none")
#: Days read for field completeness in "sample" mode: spread evenly over the window, newest always included.
DEFAULT_COMPLETENESS_SAMPLE_DAYS = 31

#: The fields law enforcement asks for (call detail: who, whom, when, how long, which way, which SIP dialog).
LAW_ENFORCEMENT_FIELDS = (
    "caller_id_number",
    "destination_number",
    "start_time",
    "end_time",
    "duration",
    "call_direction",
    "sip_call_id",
)

POLICY = {
    "obligation": "rests on the licensee",
    "rule": "CDRs archived for at least two years for scrutiny by the licensor",
    "source": "Unified Licence amendment, DoT, 21 Dec 2021 (UL, UL(VNO), UAS; ISP and standalone "
    "Voicemail/Audiotex/UMS licences from 27 Jan 2022)",
    "window_rule": "as-of date minus two calendar years (29 February's anniversary in a year without one "
    "is 1 March), to the day before the as-of date: 731 days when the window holds a 29 February, else 730",
    "note": "This report mirrors the licensee's obligation for the CDRs of this account; it does not "
    "establish compliance of the licensee's network or records.",
}


# -- calendar ---------------------------------------------------------------------------------------------
def window_days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def parse_day(value: dt.date | dt.datetime | str, what: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a calendar day (YYYY-MM-DD)") from None


def gap_ranges(days: Iterable[dt.date]) -> list[dict[str, Any]]:
    """Maximal runs of consecutive days as ``{"start", "end", "days"}``."""
    out: list[dict[str, Any]] = []
    for day in sorted(set(days)):
        if out and dt.date.fromisoformat(out[-1]["end"]) + dt.timedelta(days=1) == day:
            out[-1]["end"] = day.isoformat()
            out[-1]["days"] += 1
        else:
            out.append({"start": day.isoformat(), "end": day.isoformat(), "days": 1})
    return out


# -- one day ----------------------------------------------------------------------------------------------
@dataclass
class DayRecord:
    """What the inventory found for one day of the window."""

    call_date: dt.date
    status: str = STATUS_MISSING
    rows: int | None = None
    bytes: int | None = None
    parts: int = 0
    hash_check: str = "n/a"
    problems: list[str] = field(default_factory=list)
    quality_status: str | None = None
    reconciliation_matched: bool | None = None
    api_total: int | None = None
    object_lock_mode: str | None = None
    retain_until: str | None = None
    restatements: int = 0
    legal_hold: bool = False
    content_sha256: str | None = None
    #: sha256 of the exact bytes of the day's ``_manifest.json`` as read (what ``verify`` re-checks).
    manifest_sha256: str | None = None
    extracted_at: str | None = None
    expires_on: dt.date | None = None
    manifest_key: str | None = None
    #: The manifest's part keys, in order (what completeness reads; not part of the report).
    part_keys: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_date": self.call_date.isoformat(),
            "status": self.status,
            # Counts are integers, never null: a missing day holds 0 rows and 0 bytes.
            "rows": self.rows or 0,
            "bytes": self.bytes or 0,
            "parts": self.parts,
            "hash_check": self.hash_check,
            "problems": list(self.problems),
            "quality_status": self.quality_status,
            "reconciliation_matched": self.reconciliation_matched,
            "api_total": self.api_total,
            "object_lock_mode": self.object_lock_mode,
            "retain_until": self.retain_until,
            "restatements": self.restatements,
            "legal_hold": self.legal_hold,
            "content_sha256": self.content_sha256,
            "manifest_sha256": self.manifest_sha256,
            "extracted_at": self.extracted_at,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "manifest_key": self.manifest_key,
        }


def assess_day(
    call_date: dt.date,
    manifest: dict[str, Any] | None,
    listed_sizes: dict[str, int],
    partition_prefix: str,
    years: int = DEFAULT_RETENTION_YEARS,
    rehash: Callable[[str], str] | None = None,
    *,
    listed_etags: dict[str, str | None] | None = None,
    quality: dict[str, Any] | None = None,
    object_lock: dict[str, Any] | None = None,
    legal_hold: bool = False,
    manifest_sha256: str | None = None,
) -> DayRecord:
    """Judge one day from its manifest and the listing of its partition.

    :param listed_sizes: ``{key: size}`` of every object listed under the partition prefix.
    :param rehash: in "full" mode, a function returning the sha256 of an object's bytes.
    :param listed_etags: ``{key: ETag}`` of the listed objects (compared with the ETags the manifest recorded).
    :param quality: the verdict of the manifest's content (lake.records.read_quality).
    :param object_lock: the day's Object Lock record (lake.records.read_object_lock).
    :param legal_hold: whether the day is under legal hold (lake.records.read_legal_hold).
    :param manifest_sha256: sha256 of the manifest's bytes as read (stated in the report).
    """
    rec = DayRecord(call_date=call_date, expires_on=expires_on(call_date, years))
    stray_parts = sorted(k for k in listed_sizes if k.rsplit("/", 1)[-1].startswith("part-"))
    if manifest is None:
        rec.status = STATUS_MISSING
        if stray_parts:
            rec.problems.append(f"{len(stray_parts)} part file(s) without a published manifest")
        return rec

    rec.manifest_key = partition_prefix + "_manifest.json"
    rec.manifest_sha256 = manifest_sha256
    parts = list(manifest.get("parts") or [])
    rec.parts = len(parts)
    rec.rows = _int_or_none(manifest.get("row_count"))
    rec.content_sha256 = manifest.get("content_sha256")
    rec.extracted_at = manifest.get("extracted_at")
    rec.quality_status = (quality or {}).get("status")
    recon = manifest.get("reconciliation") or {}
    rec.reconciliation_matched = recon.get("matched") if isinstance(recon, dict) else None
    rec.api_total = _int_or_none(recon.get("api_total")) if isinstance(recon, dict) else None
    lock = object_lock or {}
    if lock.get("current", True):
        rec.object_lock_mode = lock.get("mode")
        rec.retain_until = lock.get("retain_until")
    # else: the lock was applied to parts since replaced; the new parts are not locked until the next run.
    rec.restatements = len(manifest.get("history") or [])
    rec.legal_hold = bool(legal_hold)

    # The same check the quality operator and the publisher run (lake.integrity): size and ETag of each part,
    # its sha256 too in "full" mode.
    problems = part_problems(manifest, partition_prefix, listed_sizes, listed_etags, rehash)
    rec.part_keys = part_keys_of(manifest, partition_prefix)
    rows_sum = sum(_int_or_none(p.get("rows")) or 0 for p in parts)
    rec.bytes = sum(listed_sizes.get(k, 0) for k in rec.part_keys)
    if (
        parts
        and rec.content_sha256
        and content_sha256(p.get("sha256", "") for p in parts) != rec.content_sha256
    ):
        problems.append("content_sha256 does not match the parts' hashes recorded in the manifest")
    if rec.rows is None:
        problems.append(f"the manifest's row_count is not an integer: {manifest.get('row_count')!r}")
    elif parts and rows_sum != rec.rows:
        problems.append(f"parts hold {rows_sum} rows, the manifest's row_count is {rec.rows}")
    # Part files no manifest names are what an unfinished publish left: readers who follow the manifest never
    # see them, and the next run of the day (or retention enforcement) collects them. Not a mismatch.
    rec.problems = problems

    if problems:
        rec.status = STATUS_CHECKSUM_MISMATCH
        rec.hash_check = "mismatch"
    else:
        rec.hash_check = "ok"
        rec.status = STATUS_FAILED_QUALITY if rec.quality_status == QUALITY_FAILED else STATUS_PRESENT
    return rec


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


# -- the whole window -------------------------------------------------------------------------------------
@dataclass
class Inventory:
    account_id: str
    as_of: dt.date
    years: int
    start: dt.date
    end: dt.date
    verify: str
    days: list[DayRecord]
    #: Days with a manifest outside the window (older ones are past retention and await a purge).
    outside_window: list[dt.date]
    all_present_days: list[dt.date]
    listed_objects: int
    manifests_read: int
    seconds: float


def inventory(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    as_of: dt.date | str,
    years: int = DEFAULT_RETENTION_YEARS,
    verify: str = "manifest",
    max_workers: int = 10,
) -> Inventory:
    """Inventory every day of the retention window of ``account_id`` as of ``as_of``.

    :param verify: ``"manifest"`` (sizes and the manifest's recorded hashes) or ``"full"`` (re-hash every part).
    :param max_workers: threads fetching manifests (and re-hashing parts in "full" mode).
    """
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {VERIFY_MODES}, got {verify!r}")
    as_of_day = parse_day(as_of, "as_of")
    start, end = retention_window(as_of_day, years)
    t0 = time.perf_counter()

    # One listing of the account: sizes of every object, grouped by day.
    by_day: dict[dt.date, dict[str, int]] = {}
    etags: dict[str, str | None] = {}
    manifest_days: set[dt.date] = set()
    listed = 0
    for obj in storage.list_objects(layout.account_prefix(account_id)):
        listed += 1
        parsed = layout.parse_partition(obj["Key"])
        if parsed is None:
            continue
        day = dt.date.fromisoformat(parsed[1])
        by_day.setdefault(day, {})[obj["Key"]] = int(obj["Size"])
        etags[obj["Key"]] = clean_etag(obj.get("ETag"))
        if obj["Key"].endswith("/_manifest.json"):
            manifest_days.add(day)
    log.info(
        "Listed %d objects of account %s in %.2fs: %d days with a manifest",
        listed,
        account_id,
        time.perf_counter() - t0,
        len(manifest_days),
    )

    days = window_days(start, end)
    wanted = [d for d in days if d in manifest_days]
    _ = storage.client  # build the boto3 client once, before the threads share it
    manifests: dict[dt.date, dict[str, Any] | None] = {}
    extras: dict[dt.date, dict[str, Any]] = {}

    def read_day(day: dt.date) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        raw = storage.get_bytes_or_none(layout.manifest_key(account_id, day))
        manifest = None if raw is None else json.loads(raw)
        listed = by_day.get(day, {})
        found: dict[str, Any] = {"quality": read_quality(storage, layout, account_id, day, manifest or {})}
        if raw is not None:
            found["manifest_sha256"] = manifest_sha256(raw)
        # The retention records are fetched only for the days the listing shows them for.
        if layout.object_lock_key(account_id, day) in listed:
            found["object_lock"] = read_object_lock(storage, layout, account_id, day, manifest or {})
        if layout.legal_hold_key(account_id, day) in listed:
            found["legal_hold"] = read_legal_hold(storage, layout, account_id, day).get("hold", False)
        return manifest, found

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for i, (day, (manifest, found)) in enumerate(
            zip(wanted, pool.map(read_day, wanted), strict=True),
            start=1,
        ):
            manifests[day] = manifest
            extras[day] = found
            if i % 200 == 0 or i == len(wanted):
                elapsed = time.perf_counter() - t0
                log.info("Read %d/%d manifests (%.0f manifests/s)", i, len(wanted), i / max(elapsed, 1e-9))

        rehash = (lambda key: sha256_of(storage, key)) if verify == "full" else None

        def assess(day: dt.date) -> DayRecord:
            return assess_day(
                day,
                manifests.get(day),
                by_day.get(day, {}),
                layout.partition_prefix(account_id, day),
                years=years,
                rehash=rehash,
                listed_etags=etags,
                **extras.get(day, {}),
            )

        records = list(pool.map(assess, days))

    outside = sorted(d for d in manifest_days if d < start or d > end)
    seconds = time.perf_counter() - t0
    log.info(
        "Inventory of %d days (%s mode) took %.2fs: %d present, %d missing",
        len(days),
        verify,
        seconds,
        sum(r.status == STATUS_PRESENT for r in records),
        sum(r.status == STATUS_MISSING for r in records),
    )
    return Inventory(
        account_id=account_id,
        as_of=as_of_day,
        years=years,
        start=start,
        end=end,
        verify=verify,
        days=records,
        outside_window=outside,
        all_present_days=sorted(manifest_days),
        listed_objects=listed,
        manifests_read=len(wanted),
        seconds=seconds,
    )


# -- completeness of the law-enforcement fields -----------------------------------------------------------
def field_completeness_counts(table: pa.Table) -> dict[str, dict[str, int]]:
    """Null and invalid counts of the law-enforcement fields in ``table`` (columns absent count as null).

    Invalid means: a phone number not in E.164; an end_time before start_time; a negative duration; a
    call_direction other than inbound/outbound; an empty sip_call_id.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    out: dict[str, dict[str, int]] = {}

    def col(name: str) -> pa.ChunkedArray | None:
        return table.column(name) if name in table.column_names else None

    def count_true(mask: Any) -> int:
        return int(pc.sum(pc.fill_null(mask, False).cast(pa.int64())).as_py() or 0)

    def count_invalid(mask: Any, column: Any) -> int:
        # A null is counted once, as null, never also as invalid.
        return count_true(pc.and_(mask, pc.is_valid(column)))

    for name in LAW_ENFORCEMENT_FIELDS:
        column = col(name)
        if column is None:
            out[name] = {"null": n, "invalid": 0}
            continue
        nulls = column.null_count
        invalid = 0
        if name in ("caller_id_number", "destination_number"):
            invalid = count_invalid(pc.invert(pc.match_substring_regex(column, E164_PATTERN)), column)
        elif name == "end_time" and col("start_time") is not None:
            invalid = count_true(pc.less(column, col("start_time")))
        elif name == "duration":
            invalid = count_true(pc.less(column, 0))
        elif name == "call_direction":
            invalid = count_invalid(pc.invert(pc.is_in(column, value_set=pa.array(CALL_DIRECTIONS))), column)
        elif name == "sip_call_id":
            invalid = count_true(pc.equal(pc.utf8_trim_whitespace(column), ""))
        out[name] = {"null": int(nulls), "invalid": invalid}
    return out


def sample_days(days: Sequence[dt.date], limit: int) -> list[dt.date]:
    """Up to ``limit`` days spread evenly over ``days`` (sorted), the newest always included."""
    days = sorted(days)
    if len(days) <= limit:
        return list(days)
    if limit <= 1:
        return [days[-1]]
    step = (len(days) - 1) / (limit - 1)
    return sorted({days[round(i * step)] for i in range(limit)})


def completeness(
    storage: LakeStorage,
    inv: Inventory,
    mode: str = "sample",
    sample_size: int = DEFAULT_COMPLETENESS_SAMPLE_DAYS,
    max_workers: int = 8,
) -> dict[str, Any]:
    """Share of null or invalid values of the law-enforcement fields, reading only those seven columns.

    :param mode: ``"sample"`` (``sample_size`` days spread over the window), ``"full"`` (every day with
        data) or ``"none"``.
    """
    if mode not in COMPLETENESS_MODES:
        raise ValueError(f"completeness must be one of {COMPLETENESS_MODES}, got {mode!r}")
    result: dict[str, Any] = {"mode": mode, "fields": list(LAW_ENFORCEMENT_FIELDS)}
    if mode == "none":
        result.update(days_checked=0, rows_checked=0, per_field={})
        return result
    import pyarrow.parquet as pq

    readable = [r for r in inv.days if r.status in (STATUS_PRESENT, STATUS_FAILED_QUALITY)]
    chosen = {r.call_date for r in readable}
    if mode == "sample":
        chosen = set(sample_days(list(chosen), sample_size))
    keys_of = {r.call_date: r.part_keys for r in readable}
    fs = storage.filesystem

    def read_day(day: dt.date) -> tuple[int, dict[str, dict[str, int]]]:
        totals = {f: {"null": 0, "invalid": 0} for f in LAW_ENFORCEMENT_FIELDS}
        rows = 0
        for key in keys_of[day]:
            pf = pq.ParquetFile(storage.path(key), filesystem=fs)
            cols = [c for c in LAW_ENFORCEMENT_FIELDS if c in pf.schema_arrow.names]
            table = pf.read(columns=cols)
            rows += table.num_rows
            for name, counts in field_completeness_counts(table).items():
                totals[name]["null"] += counts["null"]
                totals[name]["invalid"] += counts["invalid"]
        return rows, totals

    t0 = time.perf_counter()
    per_field = {f: {"null": 0, "invalid": 0} for f in LAW_ENFORCEMENT_FIELDS}
    rows_checked = 0
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for rows, totals in pool.map(read_day, sorted(chosen)):
            rows_checked += rows
            for name, counts in totals.items():
                per_field[name]["null"] += counts["null"]
                per_field[name]["invalid"] += counts["invalid"]
    for counts in per_field.values():
        bad = counts["null"] + counts["invalid"]
        counts["share_null_or_invalid"] = round(bad / rows_checked, 6) if rows_checked else None
    seconds = time.perf_counter() - t0
    log.info(
        "Field completeness (%s): %d rows of %d days in %.2fs (%.0f rows/s)",
        mode,
        rows_checked,
        len(chosen),
        seconds,
        rows_checked / max(seconds, 1e-9),
    )
    result.update(
        days_checked=len(chosen),
        rows_checked=rows_checked,
        checked_days=sorted(d.isoformat() for d in chosen),
        per_field=per_field,
        seconds=round(seconds, 3),
    )
    return result


# -- deletion log -----------------------------------------------------------------------------------------
def read_deletion_log(
    storage: LakeStorage, layout: LakeLayout, account_id: str, max_workers: int = 10
) -> list[dict[str, Any]]:
    """Every entry of the account's append-only deletion log, oldest deletion first."""
    keys = [o["Key"] for o in storage.list_objects(layout.deletion_log_prefix(account_id))]
    if not keys:
        return []
    _ = storage.client
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        found = list(pool.map(storage.get_json, keys))
    entries = []
    for key, entry in zip(keys, found, strict=True):
        if entry is not None:
            entries.append({**entry, "log_key": key})
    return sorted(entries, key=lambda e: (str(e.get("deleted_at")), str(e.get("call_date"))))


# -- the report -------------------------------------------------------------------------------------------
def build_report(
    inv: Inventory,
    *,
    completeness_result: dict[str, Any] | None = None,
    deletions: list[dict[str, Any]] | None = None,
    enforcement: dict[str, Any] | None = None,
    lake_uri: str | None = None,
    generated_at: str | None = None,
    provider_version: str | None = None,
    dag_run: dict[str, str] | None = None,
    horizon_days: int = EXPIRY_HORIZON_DAYS,
    repull_days: int = DEFAULT_REPULL_DAYS,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The retention report as one JSON-able dict (the source of every format).

    :param repull_days: the ingest's re-pull window: the report is ``provisional`` while the window's last
        day can still be restated by late CDRs, else ``final``.
    :param today: the day the report is made on (default: today in the reports' timezone).
    """
    from airflow_provider_vobiz import __version__
    from airflow_provider_vobiz.config import DEFAULT_TIMEZONE

    generated_at = generated_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )
    counts = {s: sum(r.status == s for r in inv.days) for s in STATUSES}
    verified = counts[STATUS_PRESENT]
    expected = len(inv.days)
    missing = [r.call_date for r in inv.days if r.status == STATUS_MISSING]
    horizon = inv.as_of + dt.timedelta(days=horizon_days)
    expiring = [
        {
            "call_date": r.call_date.isoformat(),
            "expires_on": r.expires_on.isoformat(),
            "legal_hold": r.legal_hold,
        }
        for r in inv.days
        if r.status != STATUS_MISSING and r.expires_on is not None and r.expires_on <= horizon
    ]
    past_retention = [d for d in inv.outside_window if d < inv.start]
    present_days = inv.all_present_days
    totals = {
        "expected_days": expected,
        "verified_days": verified,
        "coverage": round(verified / expected, 6) if expected else None,
        "status_counts": counts,
        "retained_days": counts[STATUS_PRESENT] + counts[STATUS_FAILED_QUALITY],
        "gaps": gap_ranges(missing),
        "missing_days": [d.isoformat() for d in missing],
        "checksum_mismatch_days": [
            r.call_date.isoformat() for r in inv.days if r.status == STATUS_CHECKSUM_MISMATCH
        ],
        "failed_quality_days": [
            r.call_date.isoformat() for r in inv.days if r.status == STATUS_FAILED_QUALITY
        ],
        "oldest_day": present_days[0].isoformat() if present_days else None,
        "newest_day": present_days[-1].isoformat() if present_days else None,
        "expiring_within_30_days": expiring,
        "past_retention_days": [d.isoformat() for d in past_retention],
        "legal_hold_days": [r.call_date.isoformat() for r in inv.days if r.legal_hold],
        "locked_days": sum(1 for r in inv.days if r.retain_until),
        "rows": sum(r.rows or 0 for r in inv.days),
        "bytes": sum(r.bytes or 0 for r in inv.days),
        "restatements": sum(r.restatements for r in inv.days),
        "deletions": deletions or [],
    }
    today = today or local_today(DEFAULT_TIMEZONE)
    return {
        "report": REPORT_NAME,
        "account_id": inv.account_id,
        "as_of": inv.as_of.isoformat(),
        "status": status_on(inv.end, today, repull_days),
        "status_rule": {
            "repull_days": repull_days,
            "as_of": today.isoformat(),
            "final_from": settled_from(inv.end, repull_days).isoformat(),
        },
        "generated_at": generated_at,
        "provider_version": provider_version or __version__,
        "policy": {**POLICY, "retention_years": inv.years},
        "window": {"start": inv.start.isoformat(), "end": inv.end.isoformat(), "days": expected},
        "verify": inv.verify,
        "inputs": {
            "lake_uri": lake_uri,
            "listed_objects": inv.listed_objects,
            "manifests_read": inv.manifests_read,
            "inventory_seconds": round(inv.seconds, 3),
        },
        "days": [r.as_dict() for r in inv.days],
        "totals": totals,
        "completeness": completeness_result or {"mode": "none"},
        "enforcement": enforcement or {},
        "dag_run": dag_run,
    }


CSV_COLUMNS = (
    "call_date",
    "status",
    "rows",
    "bytes",
    "parts",
    "hash_check",
    "quality_status",
    "reconciliation_matched",
    "retain_until",
    "restatements",
    "legal_hold",
    "expires_on",
    "content_sha256",
    "problems",
)


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per day of the window, columns :data:`CSV_COLUMNS`."""
    rows = []
    for day in report["days"]:
        row = [day.get(c) for c in CSV_COLUMNS]
        row[-1] = "; ".join(day.get("problems") or [])
        rows.append(row)
    return rows


# -- formats ----------------------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f}%"


def monthly_counts(report: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    """``[(YYYY-MM, {status: days})]`` in calendar order."""
    months: dict[str, dict[str, int]] = {}
    for day in report["days"]:
        month = day["call_date"][:7]
        counts = months.setdefault(month, dict.fromkeys(STATUSES, 0))
        counts[day["status"]] += 1
    return sorted(months.items())


def to_document(report: dict[str, Any]) -> Any:
    """The human-readable :class:`~airflow_provider_vobiz.reports.render.Report` of a retention report."""
    from airflow_provider_vobiz.reports.render import Chart, Report, Section, Table

    totals = report["totals"]
    policy = report["policy"]
    window = report["window"]
    counts = totals["status_counts"]
    notices = [
        f"Obligation: {policy['rule']} ({policy['source']}). The obligation {policy['obligation']}. "
        f"{policy['note']}"
    ]
    if report.get("status") == PROVISIONAL:
        rule = report["status_rule"]
        notices.insert(
            0,
            f"PROVISIONAL: the last days of the window are still inside the ingest's re-pull window "
            f"({rule['repull_days']} days), so late CDRs can still restate them. An inventory made on or after "
            f"{rule['final_from']} is final.",
        )
    if totals["gaps"]:
        notices.append(
            f"{len(totals['missing_days'])} day(s) of the window are missing, in {len(totals['gaps'])} gap(s)."
        )
    if totals["checksum_mismatch_days"]:
        notices.append(
            f"{len(totals['checksum_mismatch_days'])} day(s) do not match their manifest (checksum mismatch)."
        )
    if totals["failed_quality_days"]:
        notices.append(f"{len(totals['failed_quality_days'])} day(s) failed the data quality suite.")
    if totals["expiring_within_30_days"]:
        notices.append(
            f"{len(totals['expiring_within_30_days'])} day(s) leave the retention window within 30 days."
        )

    meta = [
        ("As of", report["as_of"]),
        ("Status", str(report.get("status") or "–")),
        ("Retention window", f"{window['start']} to {window['end']} ({window['days']} days)"),
        ("Policy source", policy["source"]),
        ("Window rule", policy["window_rule"]),
        ("Verification", report["verify"]),
        ("Lake", str(report["inputs"].get("lake_uri") or "–")),
        ("Manifests read", str(report["inputs"]["manifests_read"])),
    ]
    if report.get("dag_run"):
        meta.append(("DAG run", f"{report['dag_run'].get('dag_id')} / {report['dag_run'].get('run_id')}"))

    summary = Section(
        "Coverage",
        paragraphs=[
            "Verified days are days whose partition is present, matches its manifest and did not fail the "
            "quality suite. Coverage is verified days over the days of the window. The per-day inventory is in "
            "the CSV and JSON files.",
        ],
        tables=[
            Table(
                ["Measure", "Value"],
                [
                    ["Expected days", totals["expected_days"]],
                    ["Verified days", totals["verified_days"]],
                    ["Coverage", _pct(totals["coverage"])],
                    ["Present", counts[STATUS_PRESENT]],
                    ["Missing", counts[STATUS_MISSING]],
                    ["Failed quality", counts[STATUS_FAILED_QUALITY]],
                    ["Checksum mismatch", counts[STATUS_CHECKSUM_MISMATCH]],
                    ["Oldest day in the lake", totals["oldest_day"]],
                    ["Newest day in the lake", totals["newest_day"]],
                    ["Rows in the window", totals["rows"]],
                    ["Bytes in the window", totals["bytes"]],
                    ["Days under Object Lock", totals["locked_days"]],
                    ["Days under legal hold", len(totals["legal_hold_days"])],
                    ["Restatements", totals["restatements"]],
                    ["Days past retention still in the lake", len(totals["past_retention_days"])],
                ],
            )
        ],
    )
    months = monthly_counts(report)
    summary.charts.append(
        Chart(
            "stacked_bar",
            "Days per month by status",
            [m for m, _ in months],
            {s.replace("_", " "): [float(c[s]) for _, c in months] for s in STATUSES},
            y_label="days",
        )
    )
    summary.tables.append(
        Table(
            ["Month", "Present", "Missing", "Failed quality", "Checksum mismatch"],
            [[m, *(c[s] for s in STATUSES)] for m, c in months],
            caption="Days per month",
        )
    )

    attention = [d for d in report["days"] if d["status"] != STATUS_PRESENT]
    gaps = Section(
        "Gaps and problems",
        paragraphs=[] if attention else ["Every day of the window is present and verified."],
        tables=[
            Table(["From", "To", "Days"], [[g["start"], g["end"], g["days"]] for g in totals["gaps"]], "Gaps")
        ]
        if totals["gaps"]
        else [],
    )
    problems = [d for d in attention if d["status"] != STATUS_MISSING]
    if problems:
        gaps.tables.append(
            Table(
                ["Day", "Status", "Quality", "Problems"],
                [
                    [d["call_date"], d["status"], d["quality_status"], "; ".join(d["problems"])]
                    for d in problems
                ],
                "Days present but not verified",
            )
        )

    expiring = Section(
        "Expiry and deletions",
        paragraphs=[
            "A day leaves the window, and may be deleted, on the day after call_date plus two calendar years "
            "(29 February: on the 1 March that stands for its anniversary in a year without one). "
            "Deletion happens only when purging is enabled, after a grace period, never under legal hold; "
            "each deletion is logged in the lake's append-only deletion log."
        ],
        tables=[
            Table(
                ["Day", "Leaves the window on", "Legal hold"],
                [
                    [e["call_date"], e["expires_on"], e["legal_hold"]]
                    for e in totals["expiring_within_30_days"]
                ],
                "Days expiring within 30 days",
            ),
            Table(
                ["Day", "Deleted at", "Status", "Reason"],
                [
                    [e.get("call_date"), e.get("deleted_at"), e.get("status"), e.get("reason")]
                    for e in totals["deletions"]
                ],
                "Deletion log",
            ),
        ],
    )

    comp = report["completeness"]
    comp_section = Section(
        "Completeness of the fields law enforcement asks for",
        paragraphs=[
            f"Mode: {comp.get('mode')}; {comp.get('days_checked', 0)} day(s), {comp.get('rows_checked', 0)} rows "
            "read (only these seven columns). Invalid: a number not in E.164, end before start, a negative "
            "duration, a direction other than inbound/outbound, an empty SIP Call-ID."
        ],
        tables=[
            Table(
                ["Field", "Null", "Invalid", "Share null or invalid"],
                [
                    [name, c["null"], c["invalid"], _pct(c.get("share_null_or_invalid"))]
                    for name, c in (comp.get("per_field") or {}).items()
                ],
            )
        ]
        if comp.get("per_field")
        else [],
    )

    enf = report.get("enforcement") or {}
    enf_rows = []
    for name in ("object_lock", "lifecycle", "purge"):
        item = enf.get(name) or {"enabled": False}
        if not item.get("enabled"):
            detail = "off"
        elif name == "object_lock":
            detail = (
                f"{item['mode']}: {len(item['applied'])} partition(s) locked now, {item['already_locked']} "
                f"already locked, {len(item['errors'])} error(s)"
            )
        elif name == "lifecycle":
            detail = f"rule {item['rule_id']} expires {item['prefix']} after {item['expiration_days']} days"
        else:
            detail = (
                f"grace {item['grace_days']} days: {len(item['deleted'])} deleted, "
                f"{len(item['skipped_legal_hold'])} kept under legal hold, {len(item['errors'])} error(s)"
            )
        enf_rows.append([name.replace("_", " "), "on" if item.get("enabled") else "off", detail])
    enf_section = Section("Enforcement", tables=[Table(["Action", "State", "Result"], enf_rows)])

    return Report(
        title="TRAI CDR retention report",
        account_id=report["account_id"],
        period_label=f"{window['start']} to {window['end']} ({window['days']} days), as of {report['as_of']}",
        generated_at=report["generated_at"],
        provider_version=report["provider_version"],
        notices=notices,
        meta=meta,
        sections=[summary, gaps, expiring, comp_section, enf_section],
    )


def render(report: dict[str, Any], formats: Sequence[str] = REPORT_FORMATS) -> dict[str, bytes]:
    """``{ext: bytes}`` of the report in each requested format."""
    from airflow_provider_vobiz.reports.render import render_csv, render_html, render_json, render_pdf

    out: dict[str, bytes] = {}
    document = None
    for ext in formats:
        if ext == "json":
            out[ext] = render_json(report)
        elif ext == "csv":
            out[ext] = render_csv(list(CSV_COLUMNS), csv_rows(report))
        elif ext in ("html", "pdf"):
            document = document or to_document(report)
            out[ext] = render_html(document) if ext == "html" else render_pdf(document)
        else:
            raise ValueError(f"unknown report format {ext!r}: use csv, json, html or pdf")
    return out


CONTENT_TYPES = REPORT_CONTENT_TYPES


def write_report(
    storage: LakeStorage,
    layout: LakeLayout,
    report: dict[str, Any],
    formats: Sequence[str] = REPORT_FORMATS,
) -> dict[str, str]:
    """Render and upload the report; returns ``{ext: s3 uri}``."""
    uris: dict[str, str] = {}
    for ext, data in render(report, formats).items():
        key = layout.retention_report_key(report["account_id"], report["as_of"], ext)
        storage.put_bytes(key, data, content_type=CONTENT_TYPES[ext])
        uris[ext] = layout.s3_uri(key)
    log.info("Wrote the retention report as %s", ", ".join(sorted(uris.values())))
    return uris


def run_retention_report(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    as_of: dt.date | str,
    *,
    years: int = DEFAULT_RETENTION_YEARS,
    verify: str = "manifest",
    completeness_mode: str | None = None,
    completeness_sample_days: int = DEFAULT_COMPLETENESS_SAMPLE_DAYS,
    enforcement: dict[str, Any] | None = None,
    formats: Sequence[str] = REPORT_FORMATS,
    dag_run: dict[str, str] | None = None,
    max_workers: int = 10,
    repull_days: int = DEFAULT_REPULL_DAYS,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Inventory, completeness, deletion log, report, upload: returns ``(report, {ext: uri})``.

    :param completeness_mode: default "full" with ``verify="full"``, otherwise "sample".
    """
    inv = inventory(storage, layout, account_id, as_of, years=years, verify=verify, max_workers=max_workers)
    mode = completeness_mode or ("full" if verify == "full" else "sample")
    comp = completeness(storage, inv, mode=mode, sample_size=completeness_sample_days)
    report = build_report(
        inv,
        completeness_result=comp,
        deletions=read_deletion_log(storage, layout, account_id, max_workers=max_workers),
        enforcement=enforcement,
        lake_uri=layout.uri,
        dag_run=dag_run,
        repull_days=repull_days,
    )
    uris = write_report(storage, layout, report, formats) if formats else {}
    return report, uris
