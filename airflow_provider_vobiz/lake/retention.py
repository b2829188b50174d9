"""Retention enforcement on the lake: S3 Object Lock, a lifecycle rule, and the purge of expired days.

Each action is off unless the caller turns it on (the retention operator records what it did in the report):

- :func:`apply_object_lock` (``lake.object_lock``) locks the parts of each published partition until the
  day it leaves the retention window (``lake.retention_window``), and puts S3 legal holds on the parts of
  days under legal hold (:func:`set_legal_hold`);
- :func:`apply_lifecycle` adds (or replaces) one rule, ``vobiz-cdr-retention``, expiring ``cdr/`` objects
  ``366 * years + grace`` days after they were written. It counts from the object's creation, not its
  call_date, so backfilled days are kept longer, never shorter. Other rules of the bucket are kept;
- :func:`collect_unpublished` deletes parts and rejects no manifest names that are older than any publish
  lease lives: what a killed or failed publish left and no later run of its day collected yet;
- :func:`purge_expired` (``lake.purge``) deletes days past retention plus grace, never one under legal
  hold, and logs each deletion.

This module keeps the import path of all of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.lake.integrity import list_partition
from airflow_provider_vobiz.lake.object_lock import (
    LOCK_MODES,
    apply_object_lock,
    check_object_lock_enabled,
    set_legal_hold,
)
from airflow_provider_vobiz.lake.publish import DEFAULT_LEASE_SECONDS, collect_garbage
from airflow_provider_vobiz.lake.purge import purge_expired
from airflow_provider_vobiz.lake.read import partition_manifest
from airflow_provider_vobiz.lake.retention_window import (
    DEFAULT_GRACE_DAYS,
    DEFAULT_RETENTION_YEARS,
    DEFAULT_TIMEZONE,
    add_years,
    expires_on,
    in_window,
    retain_until,
    retention_window,
)

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)

LIFECYCLE_RULE_ID = "vobiz-cdr-retention"

__all__ = [
    "DEFAULT_GRACE_DAYS",
    "DEFAULT_RETENTION_YEARS",
    "DEFAULT_TIMEZONE",
    "LIFECYCLE_RULE_ID",
    "LOCK_MODES",
    "add_years",
    "apply_lifecycle",
    "apply_object_lock",
    "check_object_lock_enabled",
    "collect_unpublished",
    "expires_on",
    "in_window",
    "lifecycle_days",
    "purge_expired",
    "retain_until",
    "retention_window",
    "set_legal_hold",
]


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
    storage.connect()
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
        manifest = partition_manifest(storage, layout, account_id, day)
        published = manifest if manifest is not None else {}
        return collect_garbage(
            storage, layout, account_id, day, published, by_day[day], older_than=older_than
        )

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
    rules = [r for r in storage.lifecycle_rules() if r.get("ID") != LIFECYCLE_RULE_ID] + [rule]
    storage.put_lifecycle_rules(rules)
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
