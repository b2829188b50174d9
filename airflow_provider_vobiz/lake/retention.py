"""Retention enforcement on the lake: S3 Object Lock, a lifecycle rule, and the purge of expired days.

Each action is off unless the caller turns it on (the retention operator records what it did in the report):

- :func:`apply_object_lock` puts an Object Lock retention (governance or compliance mode) on every part of each
  published partition that has none yet (or whose content changed since it was locked), until the start of the day the partition leaves the retention window
  (:func:`expires_on`: call_date plus two calendar years, plus one day, at midnight in the partition's timezone), and records
  it in the day's ``_object_lock.json`` (never in the manifest, whose bytes never change). Run daily, it locks "newly published" partitions. The bucket must have been
  created with Object Lock enabled (S3 cannot turn it on for an existing bucket without AWS support).
  Days under legal hold (``_legal_hold.json``, :func:`set_legal_hold`) also get an S3 legal hold on their parts, so that no lifecycle
  rule or console user can delete them either.
- :func:`apply_lifecycle` adds (or replaces) one rule, ``vobiz-cdr-retention``, expiring ``cdr/`` objects
  ``366 * years + grace`` days after they were written. It counts from the object's creation, not its call_date,
  so backfilled days are kept longer, never shorter. Other rules of the bucket are kept.
- :func:`collect_unpublished` deletes parts and rejects no manifest names that are older than any publish
  lease lives: what a killed or failed publish left and no later run of its day collected yet.
- :func:`purge_expired` deletes partitions whose retention ended more than ``grace_days`` ago, never a day under
  legal hold, together with the day's quality result and quarantined rejects (they hold records too). Every
  deletion appends one new object to the account's deletion log (``LakeLayout.deletion_log_key``); the log is
  never rewritten.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

from airflow_provider_vobiz.cdr.window import iso_utc, utc_now_iso
from airflow_provider_vobiz.lake.integrity import list_partition
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.publish import DEFAULT_LEASE_SECONDS, collect_garbage
from airflow_provider_vobiz.lake.records import (
    part_keys_of,
    read_legal_hold,
    read_object_lock,
    write_legal_hold,
    write_object_lock,
)

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)

DEFAULT_RETENTION_YEARS = 2
DEFAULT_GRACE_DAYS = 30
DEFAULT_TIMEZONE = "Asia/Kolkata"
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
LIFECYCLE_RULE_ID = "vobiz-cdr-retention"


# -- calendar (the one definition of the window; the report, enforcement, purge and page use it) ----------
def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` shifted by whole calendar years. 29 February's anniversary in a year without one is 1 March
    (the day after 28 February), so a window that starts on an anniversary never starts early."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def retention_window(as_of: dt.date, years: int = DEFAULT_RETENTION_YEARS) -> tuple[dt.date, dt.date]:
    """``(start, end)``, both inclusive: from ``as_of`` minus ``years`` calendar years to ``as_of - 1``.

    With two years that is 731 days exactly when the window holds a 29 February, else 730.
    """
    if years < 1:
        raise ValueError(f"retention years must be at least 1, got {years}")
    return add_years(as_of, -years), as_of - dt.timedelta(days=1)


def in_window(call_date: dt.date, as_of: dt.date, years: int = DEFAULT_RETENTION_YEARS) -> bool:
    """Whether the retention window of ``as_of`` holds ``call_date``."""
    start, end = retention_window(as_of, years)
    return start <= call_date <= end


def expires_on(call_date: dt.date, years: int = DEFAULT_RETENTION_YEARS) -> dt.date:
    """The first as-of date whose window no longer holds ``call_date`` (the day may be deleted from then).

    Usually the day after ``call_date``'s anniversary; for 29 February it is that 1 March anniversary itself
    when the year has no 29 February (its window started on 1 March, two years earlier, after the day).
    """
    as_of = add_years(call_date, years)
    # The window's start only moves forward with as_of: step to the first one that starts after call_date.
    while retention_window(as_of, years)[0] <= call_date:
        as_of += dt.timedelta(days=1)
    return as_of


def retain_until(
    call_date: dt.date, years: int = DEFAULT_RETENTION_YEARS, timezone: str = DEFAULT_TIMEZONE
) -> dt.datetime:
    """Object Lock date of a partition: midnight (in its timezone) of the day it leaves the window, in UTC."""
    local = dt.datetime.combine(expires_on(call_date, years), dt.time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.timezone.utc)


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _partition_days(storage: LakeStorage, layout: LakeLayout, account_id: str) -> list[dt.date]:
    days = []
    for prefix in storage.list_prefixes(layout.account_prefix(account_id)):
        parsed = layout.parse_partition(prefix)
        if parsed:
            days.append(dt.date.fromisoformat(parsed[1]))
    return sorted(days)


def _manifest_days(storage: LakeStorage, layout: LakeLayout, account_id: str) -> list[dt.date]:
    days = set()
    for obj in storage.list_objects(layout.account_prefix(account_id)):
        if obj["Key"].endswith("/_manifest.json"):
            parsed = layout.parse_partition(obj["Key"])
            if parsed:
                days.add(dt.date.fromisoformat(parsed[1]))
    return sorted(days)


def _read_manifests(
    storage: LakeStorage, layout: LakeLayout, account_id: str, days: list[dt.date], max_workers: int
) -> dict[dt.date, dict[str, Any] | None]:
    _ = storage.client  # build the client once before threads share it
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        found = pool.map(lambda d: storage.get_json(layout.manifest_key(account_id, d)), days)
        return dict(zip(days, found, strict=True))


# -- Object Lock ------------------------------------------------------------------------------------------
def check_object_lock_enabled(storage: LakeStorage) -> None:
    """Raise a clear error when the bucket was not created with Object Lock enabled."""
    try:
        conf = storage.client.get_object_lock_configuration(Bucket=storage.bucket)
    except ClientError as err:
        if _error_code(err) in ("ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration"):
            conf = {}
        else:
            raise
    if (conf.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") != "Enabled":
        raise ValueError(
            f"bucket {storage.bucket!r} does not have S3 Object Lock enabled: create it with "
            "ObjectLockEnabledForBucket=True (or ask AWS to enable it), or turn object lock off"
        )


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
    A day under legal hold gets an S3 legal hold on its parts (and loses it when the hold is released). Returns a summary for the report.
    """
    mode = mode.upper()
    if mode not in LOCK_MODES:
        raise ValueError(f"object lock mode must be one of {LOCK_MODES}, got {mode!r}")
    check_object_lock_enabled(storage)
    t0 = time.perf_counter()
    days = _manifest_days(storage, layout, account_id)
    manifests = _read_manifests(storage, layout, account_id, days, max_workers)
    now = dt.datetime.now(dt.timezone.utc)
    applied: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    already = 0
    expired = 0

    def lock_day(day: dt.date) -> None:
        nonlocal already, expired
        manifest = manifests.get(day)
        if manifest is None:
            return
        prefix = layout.partition_prefix(account_id, day)
        keys = part_keys_of(manifest, prefix)
        lock = read_object_lock(storage, layout, account_id, day, manifest)
        until = retain_until(day, years, manifest.get("timezone") or DEFAULT_TIMEZONE)
        content = manifest.get("content_sha256")
        # The lock is tied to the parts it was applied to: a restatement or a repair publishes new,
        # unlocked parts (under new names), so a lock recorded for other parts is applied again.
        if lock and not lock.get("current"):
            lock = {"previous": {k: v for k, v in lock.items() if k not in ("previous", "current")}}
        changed = False
        try:
            if lock.get("retain_until") and lock.get("mode"):
                already += 1
            elif until <= now:
                expired += 1
            else:
                for key in keys:
                    storage.client.put_object_retention(
                        Bucket=storage.bucket,
                        Key=key,
                        Retention={"Mode": mode, "RetainUntilDate": until},
                    )
                lock.update(
                    mode=mode,
                    retain_until=iso_utc(until, "seconds"),
                    applied_at=utc_now_iso(),
                    parts=len(keys),
                    part_keys=keys,
                    content_sha256=content,
                )
                applied.append(
                    {
                        "call_date": day.isoformat(),
                        "retain_until": iso_utc(until, "seconds"),
                        "parts": len(keys),
                        "relocked_after_restatement": "previous" in lock,
                    }
                )
                changed = True
            want_hold = bool(read_legal_hold(storage, layout, account_id, day).get("hold"))
            if want_hold != bool(lock.get("legal_hold")):
                for key in keys:
                    storage.client.put_object_legal_hold(
                        Bucket=storage.bucket, Key=key, LegalHold={"Status": "ON" if want_hold else "OFF"}
                    )
                lock["legal_hold"] = want_hold
                holds.append({"call_date": day.isoformat(), "legal_hold": want_hold})
                changed = True
            if changed:
                write_object_lock(storage, layout, account_id, day, lock)
        except ClientError as err:
            errors.append({"call_date": day.isoformat(), "error": f"{_error_code(err)}: {err}"})

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        list(pool.map(lock_day, days))
    applied.sort(key=lambda a: a["call_date"])
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
        "legal_holds_changed": sorted(holds, key=lambda h: h["call_date"]),
        "already_locked": already,
        "skipped_past_retention": expired,
        "errors": errors,
    }


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
    manifest = read_manifest(storage, layout, account_id, call_date)
    if manifest is None:
        raise FileNotFoundError(
            f"no manifest at {layout.s3_uri(layout.manifest_key(account_id, call_date))}: "
            "the day was never published, so there is nothing to hold"
        )
    if _object_lock_enabled(storage):
        for key in part_keys_of(manifest, layout.partition_prefix(account_id, call_date)):
            storage.client.put_object_legal_hold(
                Bucket=storage.bucket, Key=key, LegalHold={"Status": "ON" if hold else "OFF"}
            )
        lock = read_object_lock(storage, layout, account_id, call_date, manifest)
        if lock:
            write_object_lock(storage, layout, account_id, call_date, {**lock, "legal_hold": bool(hold)})
    record = write_legal_hold(storage, layout, account_id, call_date, hold, reason)
    log.info(
        "Legal hold %s for %s %s (%s)", "ON" if hold else "OFF", account_id, call_date, reason or "no reason"
    )
    return record


def _object_lock_enabled(storage: LakeStorage) -> bool:
    try:
        check_object_lock_enabled(storage)
    except ValueError:
        return False
    return True


# -- objects of unfinished publishes ---------------------------------------------------------------------
def collect_unpublished(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    *,
    older_than: dt.timedelta = dt.timedelta(seconds=DEFAULT_LEASE_SECONDS),
    max_workers: int = 10,
) -> dict[str, Any]:
    """Delete the parts and rejects of ``account_id`` that no manifest names and that are older than any lease
    lives (so no publish in flight can still commit them): what killed or failed publishes left, and what the
    next run of their day has not collected yet, in ``cdr/`` and in its tokenised twin (days of the twin are
    reported as ``"cdr_tokenised YYYY-MM-DD"``). Also what releases before versioned parts left in
    ``_staging/``. Returns a summary for the report.
    """
    t0 = time.perf_counter()
    days: dict[str, int] = {}
    _ = storage.client  # build the client once before threads share it
    # Both zones: the tokenised twin is published with the same protocol, so a killed publish leaves the same.
    for zone, label in ((layout, ""), (layout.tokenised(), "cdr_tokenised ")):
        for day, count in _collect_zone(storage, zone, account_id, older_than, max_workers).items():
            days[label + day] = count
    log.info(
        "Collected %d unpublished object(s) in %d day(s) of %s in %.2fs",
        sum(days.values()),
        len(days),
        account_id,
        time.perf_counter() - t0,
    )
    return {"enabled": True, "objects": sum(days.values()), "days": days, "errors": []}


def _collect_zone(
    storage: LakeStorage, layout: LakeLayout, account_id: str, older_than: dt.timedelta, max_workers: int
) -> dict[str, int]:
    """``{day: objects collected}`` of one zone (``cdr/`` or its tokenised twin)."""
    by_day: dict[str, dict[str, dict[str, Any]]] = {}
    for key, info in list_partition(storage, layout.account_prefix(account_id)).items():
        parsed = layout.parse_partition(key)
        if parsed:
            by_day.setdefault(parsed[1], {})[key] = info

    def collect(day: str) -> list[str]:
        manifest = storage.get_json(layout.manifest_key(account_id, day)) or {}
        return collect_garbage(storage, layout, account_id, day, manifest, by_day[day], older_than=older_than)

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        days_listed = sorted(by_day)
        collected = dict(zip(days_listed, pool.map(collect, days_listed), strict=True))
    return {day: len(keys) for day, keys in collected.items() if keys}


# -- lifecycle --------------------------------------------------------------------------------------------
def lifecycle_days(years: int = DEFAULT_RETENTION_YEARS, grace_days: int = DEFAULT_GRACE_DAYS) -> int:
    """Days after creation at which the lifecycle rule expires an object: never before retention ends."""
    return 366 * years + grace_days


def apply_lifecycle(
    storage: LakeStorage,
    layout: LakeLayout,
    *,
    years: int = DEFAULT_RETENTION_YEARS,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> dict[str, Any]:
    """Add or replace the ``vobiz-cdr-retention`` rule on the bucket, keeping every other rule."""
    if grace_days < 0:
        raise ValueError(f"grace_days must be >= 0, got {grace_days}")
    days = lifecycle_days(years, grace_days)
    rule = {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": layout.cdr_root},
        "Expiration": {"Days": days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": days},
    }
    try:
        existing = storage.client.get_bucket_lifecycle_configuration(Bucket=storage.bucket).get("Rules", [])
    except ClientError as err:
        if _error_code(err) != "NoSuchLifecycleConfiguration":
            raise
        existing = []
    rules = [r for r in existing if r.get("ID") != LIFECYCLE_RULE_ID] + [rule]
    storage.client.put_bucket_lifecycle_configuration(
        Bucket=storage.bucket, LifecycleConfiguration={"Rules": rules}
    )
    log.info("Lifecycle rule %s: expire %s after %d days", LIFECYCLE_RULE_ID, layout.cdr_root, days)
    return {
        "enabled": True,
        "rule_id": LIFECYCLE_RULE_ID,
        "prefix": layout.cdr_root,
        "expiration_days": days,
        "other_rules_kept": len(rules) - 1,
        "note": "counts from each object's creation, not its call_date; S3 legal holds (set by object lock "
        "enforcement for days under legal hold) stop it",
    }


# -- purge ------------------------------------------------------------------------------------------------
def _bucket_versioned(storage: LakeStorage) -> bool:
    status = storage.client.get_bucket_versioning(Bucket=storage.bucket).get("Status")
    return status in ("Enabled", "Suspended")


def _live_lock(storage: LakeStorage, keys: list[str]) -> str | None:
    """Why S3 would refuse to delete these objects now (a future retain-until or a legal hold), or None.

    Checked before deleting anything, so a day is either purged whole or left whole.
    """
    now = dt.datetime.now(dt.timezone.utc)
    for key in keys:
        head = storage.head(key)
        if head is None:
            continue
        if head.get("ObjectLockLegalHoldStatus") == "ON":
            return "S3 legal hold"
        until = head.get("ObjectLockRetainUntilDate")
        if until and until > now:
            return f"object lock until {iso_utc(until, 'seconds')}"
    return None


def _objects_to_delete(storage: LakeStorage, prefixes: list[str], versioned: bool) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for prefix in prefixes:
        if versioned:
            paginator = storage.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=storage.bucket, Prefix=prefix):
                for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    out.append({"Key": v["Key"], "VersionId": v["VersionId"]})
        else:
            out.extend({"Key": o["Key"]} for o in storage.list_objects(prefix))
    return out


def _delete(storage: LakeStorage, objects: list[dict[str, str]]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for start in range(0, len(objects), 1000):
        resp = storage.client.delete_objects(
            Bucket=storage.bucket, Delete={"Objects": objects[start : start + 1000], "Quiet": True}
        )
        errors.extend(
            {"key": e.get("Key", ""), "code": e.get("Code", ""), "message": e.get("Message", "")}
            for e in resp.get("Errors", [])
        )
    return errors


def purge_expired(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    as_of: dt.date,
    *,
    years: int = DEFAULT_RETENTION_YEARS,
    grace_days: int = DEFAULT_GRACE_DAYS,
    dag_run: dict[str, str] | None = None,
    max_workers: int = 10,
) -> dict[str, Any]:
    """Delete the partitions of ``account_id`` past retention plus ``grace_days`` on ``as_of``.

    A day under legal hold (``_legal_hold.json``) is never deleted. In a versioned (Object Lock) bucket every version
    is deleted, and a day whose parts S3 still locks (a longer lock, an S3 legal hold) is skipped whole and
    reported; a refusal S3 still makes part-way is logged as a "partial" deletion. Each deletion writes one new
    entry to the deletion log; returns a summary for the report.
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be >= 0, got {grace_days}")
    t0 = time.perf_counter()
    expired = [
        d
        for d in _partition_days(storage, layout, account_id)
        if as_of >= expires_on(d, years) + dt.timedelta(grace_days)
    ]
    manifests = _read_manifests(storage, layout, account_id, expired, max_workers) if expired else {}
    versioned = _bucket_versioned(storage) if expired else False
    deleted: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    skipped_locked: list[dict[str, str]] = []
    errors: list[dict[str, Any]] = []
    for day in expired:
        manifest = manifests.get(day) or {}
        if read_legal_hold(storage, layout, account_id, day).get("hold"):
            skipped.append({"call_date": day.isoformat(), "reason": "legal hold"})
            continue
        if versioned:
            live = _live_lock(storage, part_keys_of(manifest, layout.partition_prefix(account_id, day)))
            if live:
                skipped_locked.append({"call_date": day.isoformat(), "reason": live})
                continue
        prefixes = [
            layout.partition_prefix(account_id, day),
            layout.tokenised().partition_prefix(account_id, day),
            layout.quality_prefix(account_id, day),
            layout.quarantine_prefix(account_id, day),
        ]
        objects = _objects_to_delete(storage, prefixes, versioned)
        failures = _delete(storage, objects)
        deleted_at = dt.datetime.now(dt.timezone.utc)
        entry = {
            "account_id": account_id,
            "call_date": day.isoformat(),
            "deleted_at": iso_utc(deleted_at, "seconds"),
            "status": "partial" if failures else "deleted",
            "reason": (
                f"retention expired: kept {years} years to {(expires_on(day, years) - dt.timedelta(1)).isoformat()}"
                f" plus {grace_days} days grace, purged on {as_of.isoformat()}"
            ),
            "as_of": as_of.isoformat(),
            "retention_years": years,
            "grace_days": grace_days,
            "row_count": manifest.get("row_count"),
            "content_sha256": manifest.get("content_sha256"),
            "had_manifest": bool(manifest),
            "objects_deleted": len(objects) - len(failures),
            "keys": sorted({o["Key"] for o in objects}),
            "errors": failures,
            "dag_run": dag_run,
        }
        log_key = layout.deletion_log_key(account_id, day, deleted_at)
        storage.put_json(log_key, entry)
        entry["log_key"] = log_key
        (errors if failures else deleted).append(entry)
        log.info(
            "Purged %s (%d objects, %d refused); logged at %s", day, len(objects), len(failures), log_key
        )
    log.info(
        "Purge: %d expired days, %d deleted, %d under legal hold, %d still locked, %d with errors in %.2fs",
        len(expired),
        len(deleted),
        len(skipped),
        len(skipped_locked),
        len(errors),
        time.perf_counter() - t0,
    )
    return {
        "enabled": True,
        "grace_days": grace_days,
        "deleted": [{k: e[k] for k in ("call_date", "deleted_at", "reason", "log_key")} for e in deleted],
        "skipped_legal_hold": skipped,
        "skipped_locked": skipped_locked,
        "errors": [
            {"call_date": e["call_date"], "log_key": e["log_key"], "errors": e["errors"][:10]} for e in errors
        ],
    }
