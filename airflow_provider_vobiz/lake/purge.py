"""The purge of days past retention: partitions whose retention ended more than ``grace_days`` ago are
deleted, never a day under legal hold, together with the day's tokenised twin, quality result and
quarantined rejects (they hold records too). Every deletion appends one new object to the account's
deletion log (``LakeLayout.deletion_log_key``); the log is never rewritten.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.window import iso_utc
from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.read import partition_manifests
from airflow_provider_vobiz.lake.records import read_legal_hold
from airflow_provider_vobiz.lake.retention_window import (
    DEFAULT_GRACE_DAYS,
    DEFAULT_RETENTION_YEARS,
    expires_on,
)

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)


def _partition_days(storage: LakeStorage, layout: LakeLayout, account_id: str) -> list[dt.date]:
    days = []
    for prefix in storage.list_prefixes(layout.account_prefix(account_id)):
        parsed = layout.parse_partition(prefix)
        if parsed:
            days.append(dt.date.fromisoformat(parsed[1]))
    return sorted(days)


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


def _objects_to_delete(
    storage: LakeStorage, prefixes: list[str], versioned: bool
) -> list[str | tuple[str, str]]:
    """Every object under ``prefixes``: each version (and delete marker) of it in a versioned bucket."""
    out: list[str | tuple[str, str]] = []
    for prefix in prefixes:
        if versioned:
            out.extend((v["Key"], v["VersionId"]) for v in storage.list_object_versions(prefix))
        else:
            out.extend(o["Key"] for o in storage.list_objects(prefix))
    return out


def _expired_days(
    storage: LakeStorage, layout: LakeLayout, account_id: str, as_of: dt.date, years: int, grace_days: int
) -> list[dt.date]:
    """The partition days of ``account_id`` whose retention plus ``grace_days`` ended by ``as_of``."""
    return [
        d
        for d in _partition_days(storage, layout, account_id)
        if as_of >= expires_on(d, years) + dt.timedelta(grace_days)
    ]


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

    A day under legal hold (``_legal_hold.json``) is never deleted. In a versioned (Object Lock) bucket every
    version is deleted, and a day whose parts S3 still locks (a longer lock, an S3 legal hold) is skipped
    whole and reported; a refusal S3 still makes part-way is logged as a "partial" deletion. Each deletion
    writes one new entry to the deletion log; returns a summary for the report.
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be >= 0, got {grace_days}")
    t0 = time.perf_counter()
    expired = _expired_days(storage, layout, account_id, as_of, years, grace_days)
    manifests = partition_manifests(storage, layout, account_id, expired, max_workers)
    versioned = storage.versioned() if expired else False
    deleted: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    skipped_locked: list[dict[str, str]] = []
    errors: list[dict[str, Any]] = []
    for day in expired:
        manifest = manifests.get(day) or Manifest({})
        if read_legal_hold(storage, layout, account_id, day).get("hold"):
            skipped.append({"call_date": day.isoformat(), "reason": "legal hold"})
            continue
        keys = manifest.part_keys(layout.partition_prefix(account_id, day))
        live = _live_lock(storage, keys) if versioned else None
        if live:
            skipped_locked.append({"call_date": day.isoformat(), "reason": live})
            continue
        why = _why(day, as_of, years, grace_days, dag_run)
        entry = _purge_day(storage, layout, account_id, day, manifest, versioned=versioned, why=why)
        (errors if entry["errors"] else deleted).append(entry)
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


def _why(
    day: dt.date, as_of: dt.date, years: int, grace_days: int, dag_run: dict[str, str] | None
) -> dict[str, Any]:
    """Why a day is purged, as its deletion log entry states it."""
    return {
        "reason": (
            f"retention expired: kept {years} years to {(expires_on(day, years) - dt.timedelta(1)).isoformat()}"
            f" plus {grace_days} days grace, purged on {as_of.isoformat()}"
        ),
        "as_of": as_of.isoformat(),
        "retention_years": years,
        "grace_days": grace_days,
        "dag_run": dag_run,
    }


def _purge_day(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    day: dt.date,
    manifest: Manifest,
    *,
    versioned: bool,
    why: dict[str, Any],
) -> dict[str, Any]:
    """Delete the day's partition, its tokenised twin, quality result and rejects, and append what was
    deleted (and ``why``) to the account's deletion log, a new object each time; returns the entry."""
    prefixes = [
        layout.partition_prefix(account_id, day),
        layout.tokenised().partition_prefix(account_id, day),
        layout.quality_prefix(account_id, day),
        layout.quarantine_prefix(account_id, day),
    ]
    objects = _objects_to_delete(storage, prefixes, versioned)
    failures = storage.delete_keys(objects)
    deleted_at = dt.datetime.now(dt.timezone.utc)
    entry = {
        "account_id": account_id,
        "call_date": day.isoformat(),
        "deleted_at": iso_utc(deleted_at, "seconds"),
        "status": "partial" if failures else "deleted",
        **why,
        "row_count": manifest.row_count,
        "content_sha256": manifest.content_sha256,
        "had_manifest": bool(manifest.data),
        "objects_deleted": len(objects) - len(failures),
        "keys": sorted({o if isinstance(o, str) else o[0] for o in objects}),
        "errors": failures,
    }
    log_key = layout.deletion_log_key(account_id, day, deleted_at)
    storage.put_json(log_key, entry)
    entry["log_key"] = log_key
    log.info("Purged %s (%d objects, %d refused); logged at %s", day, len(objects), len(failures), log_key)
    return entry
