"""The retention report as one JSON-able dict, the source of every format: the inventory's days, their
totals (coverage, gaps, expiry), completeness, the deletion log, enforcement and the report's inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.window import (
    DEFAULT_REPULL_DAYS,
    local_today,
    settled_from,
    status_on,
    utc_now_iso,
)
from airflow_provider_vobiz.reports.retention.policy import (
    EXPIRY_HORIZON_DAYS,
    POLICY,
    REPORT_NAME,
    STATUS_CHECKSUM_MISMATCH,
    STATUS_FAILED_QUALITY,
    STATUS_MISSING,
    STATUS_PRESENT,
    STATUSES,
)

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage
    from airflow_provider_vobiz.reports.retention.inventory import Inventory


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


def read_deletion_log(
    storage: LakeStorage, layout: LakeLayout, account_id: str, max_workers: int = 10
) -> list[dict[str, Any]]:
    """Every entry of the account's append-only deletion log, oldest deletion first."""
    keys = [o["Key"] for o in storage.list_objects(layout.deletion_log_prefix(account_id))]
    if not keys:
        return []
    storage.connect()
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        found = list(pool.map(storage.get_json, keys))
    entries = []
    for key, entry in zip(keys, found, strict=True):
        if entry is not None:
            entries.append({**entry, "log_key": key})
    return sorted(entries, key=lambda e: (str(e.get("deleted_at")), str(e.get("call_date"))))


def _days_with(inv: Inventory, status: str) -> list[str]:
    return [r.call_date.isoformat() for r in inv.days if r.status == status]


def _expiring(inv: Inventory, horizon_days: int) -> list[dict[str, Any]]:
    """The days held that leave the window within ``horizon_days`` of the as-of date."""
    horizon = inv.as_of + dt.timedelta(days=horizon_days)
    return [
        {
            "call_date": r.call_date.isoformat(),
            "expires_on": r.expires_on.isoformat(),
            "legal_hold": r.legal_hold,
        }
        for r in inv.days
        if r.status != STATUS_MISSING and r.expires_on is not None and r.expires_on <= horizon
    ]


def totals_of(
    inv: Inventory, deletions: list[dict[str, Any]] | None, horizon_days: int = EXPIRY_HORIZON_DAYS
) -> dict[str, Any]:
    """The report's ``totals``: coverage, status counts, gaps, expiry, holds, locks, sums and deletions."""
    counts = {s: sum(r.status == s for r in inv.days) for s in STATUSES}
    verified = counts[STATUS_PRESENT]
    expected = len(inv.days)
    missing = [r.call_date for r in inv.days if r.status == STATUS_MISSING]
    present_days = inv.all_present_days
    return {
        "expected_days": expected,
        "verified_days": verified,
        "coverage": round(verified / expected, 6) if expected else None,
        "status_counts": counts,
        "retained_days": counts[STATUS_PRESENT] + counts[STATUS_FAILED_QUALITY],
        "gaps": gap_ranges(missing),
        "missing_days": [d.isoformat() for d in missing],
        "checksum_mismatch_days": _days_with(inv, STATUS_CHECKSUM_MISMATCH),
        "failed_quality_days": _days_with(inv, STATUS_FAILED_QUALITY),
        "oldest_day": present_days[0].isoformat() if present_days else None,
        "newest_day": present_days[-1].isoformat() if present_days else None,
        "expiring_within_30_days": _expiring(inv, horizon_days),
        "past_retention_days": [d.isoformat() for d in inv.outside_window if d < inv.start],
        "legal_hold_days": [r.call_date.isoformat() for r in inv.days if r.legal_hold],
        "locked_days": sum(1 for r in inv.days if r.retain_until),
        "rows": sum(r.rows or 0 for r in inv.days),
        "bytes": sum(r.bytes or 0 for r in inv.days),
        "restatements": sum(r.restatements for r in inv.days),
        "deletions": deletions or [],
    }


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
    from airflow_provider_vobiz.settings import DEFAULT_TIMEZONE

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
        "generated_at": generated_at or utc_now_iso(),
        "provider_version": provider_version or __version__,
        "policy": {**POLICY, "retention_years": inv.years},
        "window": {"start": inv.start.isoformat(), "end": inv.end.isoformat(), "days": len(inv.days)},
        "verify": inv.verify,
        "inputs": {
            "lake_uri": lake_uri,
            "listed_objects": inv.listed_objects,
            "manifests_read": inv.manifests_read,
            "inventory_seconds": round(inv.seconds, 3),
        },
        "days": [r.as_dict() for r in inv.days],
        "totals": totals_of(inv, deletions, horizon_days),
        "completeness": completeness_result or {"mode": "none"},
        "enforcement": enforcement or {},
        "dag_run": dag_run,
    }
