"""The inventory: what the lake holds for each day of the retention window.

How it stays fast: one paginated listing of the account's prefix (sizes of every part and which days have a
manifest), then the manifests of the window's days and their records (quality verdict, Object Lock, legal
hold) fetched concurrently on a thread pool. No Parquet is read, except that "full" mode re-hashes every part.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.window import parse_day
from airflow_provider_vobiz.lake.integrity import VERIFY_MODES, clean_etag, sha256_of
from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.read import partition_manifest
from airflow_provider_vobiz.lake.records import read_legal_hold, read_object_lock, read_quality
from airflow_provider_vobiz.lake.retention import DEFAULT_RETENTION_YEARS, retention_window
from airflow_provider_vobiz.reports.retention.day import DayRecord, assess_day
from airflow_provider_vobiz.reports.retention.policy import STATUS_MISSING, STATUS_PRESENT

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)


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


def window_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass
class _Listing:
    """One listing of the account's prefix, grouped by day."""

    by_day: dict[dt.date, dict[str, int]] = field(default_factory=dict)
    etags: dict[str, str | None] = field(default_factory=dict)
    manifest_days: set[dt.date] = field(default_factory=set)
    objects: int = 0


def _list_account(storage: LakeStorage, layout: LakeLayout, account_id: str) -> _Listing:
    listing = _Listing()
    for obj in storage.list_objects(layout.account_prefix(account_id)):
        listing.objects += 1
        parsed = layout.parse_partition(obj["Key"])
        if parsed is None:
            continue
        day = dt.date.fromisoformat(parsed[1])
        listing.by_day.setdefault(day, {})[obj["Key"]] = int(obj["Size"])
        listing.etags[obj["Key"]] = clean_etag(obj.get("ETag"))
        if obj["Key"].endswith("/_manifest.json"):
            listing.manifest_days.add(day)
    return listing


def _read_day(
    storage: LakeStorage, layout: LakeLayout, account_id: str, day: dt.date, listed: dict[str, int]
) -> tuple[Manifest | None, dict[str, Any]]:
    """The day's manifest, and the keyword arguments of :func:`assess_day` read beside it."""
    manifest = partition_manifest(storage, layout, account_id, day)
    if manifest is None:  # gone since the listing: a missing day, whose records say nothing
        return None, {}
    found: dict[str, Any] = {"quality": read_quality(storage, layout, account_id, day, manifest)}
    # The retention records are fetched only for the days the listing shows them for.
    if layout.object_lock_key(account_id, day) in listed:
        found["object_lock"] = read_object_lock(storage, layout, account_id, day, manifest)
    if layout.legal_hold_key(account_id, day) in listed:
        found["legal_hold"] = read_legal_hold(storage, layout, account_id, day).get("hold", False)
    return manifest, found


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
    listing = _list_account(storage, layout, account_id)
    log.info(
        "Listed %d objects of account %s in %.2fs: %d days with a manifest",
        listing.objects,
        account_id,
        time.perf_counter() - t0,
        len(listing.manifest_days),
    )
    days = window_days(start, end)
    wanted = [d for d in days if d in listing.manifest_days]
    records = _assess_days(storage, layout, account_id, days, wanted, listing, years, verify, max_workers, t0)
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
        outside_window=sorted(d for d in listing.manifest_days if d < start or d > end),
        all_present_days=sorted(listing.manifest_days),
        listed_objects=listing.objects,
        manifests_read=len(wanted),
        seconds=seconds,
    )


def _assess_days(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    days: list[dt.date],
    wanted: list[dt.date],
    listing: _Listing,
    years: int,
    verify: str,
    max_workers: int,
    t0: float,
) -> list[DayRecord]:
    """Read the manifests and records of the ``wanted`` days, then judge every day, on a thread pool."""
    storage.connect()  # build the boto3 client once, before the threads share it
    rehash = (lambda key: sha256_of(storage, key)) if verify == "full" else None
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        read = _read_days(pool, storage, layout, account_id, wanted, listing, t0)

        def assess(day: dt.date) -> DayRecord:
            manifest, found = read.get(day, (None, {}))
            return assess_day(
                day,
                manifest,
                listing.by_day.get(day, {}),
                layout.partition_prefix(account_id, day),
                years=years,
                rehash=rehash,
                listed_etags=listing.etags,
                **found,
            )

        return list(pool.map(assess, days))


def _read_days(
    pool: ThreadPoolExecutor,
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    days: list[dt.date],
    listing: _Listing,
    t0: float,
) -> dict[dt.date, tuple[Manifest | None, dict[str, Any]]]:
    """:func:`_read_day` of each of ``days`` on ``pool``, logging the pace."""

    def read(day: dt.date) -> tuple[Manifest | None, dict[str, Any]]:
        return _read_day(storage, layout, account_id, day, listing.by_day.get(day, {}))

    out = {}
    for i, (day, found) in enumerate(zip(days, pool.map(read, days), strict=True), start=1):
        out[day] = found
        if i % 200 == 0 or i == len(days):
            elapsed = time.perf_counter() - t0
            log.info("Read %d/%d manifests (%.0f manifests/s)", i, len(days), i / max(elapsed, 1e-9))
    return out
