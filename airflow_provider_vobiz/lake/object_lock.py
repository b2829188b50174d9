"""S3 Object Lock and legal holds on the parts of published partitions.

:func:`apply_object_lock` puts an Object Lock retention (governance or compliance mode) on every part of each
published partition that has none yet (or whose content changed since it was locked), until the start of
the day the partition leaves the retention window (``retention_window.retain_until``), and records it in the
day's ``_object_lock.json`` (never in the manifest, whose bytes never change). Run daily, it locks newly
published partitions. The bucket must have been created with Object Lock enabled (S3 cannot turn it on for
an existing bucket without AWS support). Days under legal hold (``_legal_hold.json``, :func:`set_legal_hold`)
also get an S3 legal hold on their parts, so that no lifecycle rule or console user can delete them either.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_provider_vobiz.cdr.window import iso_utc, utc_now_iso
from airflow_provider_vobiz.lake.read import manifest_days, partition_manifest, partition_manifests
from airflow_provider_vobiz.lake.records import (
    read_legal_hold,
    read_object_lock,
    write_legal_hold,
    write_object_lock,
)
from airflow_provider_vobiz.lake.retention_window import (
    DEFAULT_RETENTION_YEARS,
    DEFAULT_TIMEZONE,
    retain_until,
)
from airflow_provider_vobiz.lake.storage import error_code

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.manifest import Manifest
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


def check_object_lock_enabled(storage: LakeStorage) -> None:
    """Raise a clear error when the bucket was not created with Object Lock enabled."""
    if not storage.object_lock_enabled():
        raise ValueError(
            f"bucket {storage.bucket!r} does not have S3 Object Lock enabled: create it with "
            "ObjectLockEnabledForBucket=True (or ask AWS to enable it), or turn object lock off"
        )


@dataclass
class _DayLock:
    """What :func:`apply_object_lock` did to one day (each day in its own thread; the caller sums them)."""

    call_date: str
    already: bool = False
    expired: bool = False
    applied: dict[str, Any] | None = None
    hold: dict[str, Any] | None = None
    error: dict[str, str] | None = None


def apply_object_lock(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    as_of: dt.date,
    *,
    mode: str = "GOVERNANCE",
    years: int = DEFAULT_RETENTION_YEARS,
    max_workers: int = 10,
) -> dict[str, Any]:
    """Lock the parts of every published partition of ``account_id`` that has no lock yet.

    Partitions already past retention on ``as_of`` are left alone (S3 refuses a retain-until in the past).
    A day under legal hold gets an S3 legal hold on its parts (and loses it when the hold is released).
    Returns a summary for the report.
    """
    mode = mode.upper()
    if mode not in LOCK_MODES:
        raise ValueError(f"object lock mode must be one of {LOCK_MODES}, got {mode!r}")
    check_object_lock_enabled(storage)
    t0 = time.perf_counter()
    manifests = partition_manifests(
        storage, layout, account_id, manifest_days(storage, layout, account_id), max_workers
    )
    now = dt.datetime.now(dt.timezone.utc)
    found = {day: m for day, m in manifests.items() if m is not None}

    def lock(day: dt.date) -> _DayLock:
        return _lock_day(storage, layout, account_id, day, found[day], mode=mode, years=years, now=now)

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        done = list(pool.map(lock, sorted(found)))
    applied = [d.applied for d in done if d.applied]
    errors = [d.error for d in done if d.error]
    already, expired = sum(d.already for d in done), sum(d.expired for d in done)
    log.info(
        "Object Lock (%s): locked %d partitions, %d already locked, %d past retention, %d errors in %.2fs",
        mode,
        len(applied),
        already,
        expired,
        len(errors),
        time.perf_counter() - t0,
    )
    return {
        "enabled": True,
        "mode": mode,
        "applied": applied,
        "legal_holds_changed": [d.hold for d in done if d.hold],
        "already_locked": already,
        "skipped_past_retention": expired,
        "errors": errors,
    }


def _lock_day(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    day: dt.date,
    manifest: Manifest,
    *,
    mode: str,
    years: int,
    now: dt.datetime,
) -> _DayLock:
    """Lock one day's parts if they are not yet, bring their S3 legal hold in line with the day's, and
    record both in ``_object_lock.json``."""
    out = _DayLock(day.isoformat())
    keys = manifest.part_keys(layout.partition_prefix(account_id, day))
    lock = read_object_lock(storage, layout, account_id, day, manifest)
    # The lock is tied to the parts it was applied to: a restatement or a repair publishes new,
    # unlocked parts (under new names), so a lock recorded for other parts is applied again.
    if lock and not lock.get("current"):
        lock = {"previous": {k: v for k, v in lock.items() if k not in ("previous", "current")}}
    try:
        until = retain_until(day, years, manifest.timezone or DEFAULT_TIMEZONE)
        if lock.get("retain_until") and lock.get("mode"):
            out.already = True
        elif until <= now:
            out.expired = True
        else:
            for key in keys:
                storage.put_retention(key, mode, until)
            lock.update(
                mode=mode,
                retain_until=iso_utc(until, "seconds"),
                applied_at=utc_now_iso(),
                parts=len(keys),
                part_keys=keys,
                content_sha256=manifest.content_sha256,
            )
            out.applied = {
                "call_date": out.call_date,
                "retain_until": iso_utc(until, "seconds"),
                "parts": len(keys),
                "relocked_after_restatement": "previous" in lock,
            }
        want_hold = bool(read_legal_hold(storage, layout, account_id, day).get("hold"))
        if want_hold != bool(lock.get("legal_hold")):
            for key in keys:
                storage.put_legal_hold(key, want_hold)
            lock["legal_hold"] = want_hold
            out.hold = {"call_date": out.call_date, "legal_hold": want_hold}
        if out.applied or out.hold:
            write_object_lock(storage, layout, account_id, day, lock)
    except ClientError as err:
        out.error = {"call_date": out.call_date, "error": f"{error_code(err)}: {err}"}
    return out


# -- legal hold -------------------------------------------------------------------------------------------
def set_legal_hold(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    hold: bool,
    *,
    reason: str = "",
) -> dict[str, Any]:
    """Put a day under legal hold (or release it): the day's ``_legal_hold.json``, which the purge obeys,
    and, in an Object Lock bucket, an S3 legal hold on each part, which S3 itself and lifecycle rules obey.

    Returns the legal-hold record. Raises ``FileNotFoundError`` for a day that was never published.
    """
    manifest = partition_manifest(storage, layout, account_id, call_date)
    if manifest is None:
        raise FileNotFoundError(
            f"no manifest at {layout.s3_uri(layout.manifest_key(account_id, call_date))}: "
            "the day was never published, so there is nothing to hold"
        )
    if storage.object_lock_enabled():
        for key in manifest.part_keys(layout.partition_prefix(account_id, call_date)):
            storage.put_legal_hold(key, hold)
        lock = read_object_lock(storage, layout, account_id, call_date, manifest)
        if lock:
            write_object_lock(storage, layout, account_id, call_date, {**lock, "legal_hold": bool(hold)})
    record = write_legal_hold(storage, layout, account_id, call_date, hold, reason)
    log.info(
        "Legal hold %s for %s %s (%s)", "ON" if hold else "OFF", account_id, call_date, reason or "no reason"
    )
    return record
