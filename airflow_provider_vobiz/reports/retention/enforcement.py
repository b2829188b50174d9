"""Which retention enforcement actions run before an inventory, and what the report records of them.

The actions themselves live in :mod:`airflow_provider_vobiz.lake.retention`; each is off unless asked for, and
the record of one that is off says ``{"enabled": False}``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.lake import retention as lake_retention

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage


def run_enforcement(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    as_of: dt.date,
    *,
    years: int = lake_retention.DEFAULT_RETENTION_YEARS,
    grace_days: int = lake_retention.DEFAULT_GRACE_DAYS,
    collect_unpublished: bool = False,
    purge_expired: bool = False,
    object_lock_mode: str | None = None,
    lifecycle: bool = False,
    dag_run: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the enforcement actions asked for, in this order; returns ``{action: result}`` for the report.

    :param collect_unpublished: delete what unfinished publishes left (lake.retention.collect_unpublished).
    :param purge_expired: delete days past retention plus ``grace_days``, never under legal hold.
    :param object_lock_mode: ``governance`` or ``compliance`` to lock newly published partitions; None: off.
    :param lifecycle: put the bucket's retention lifecycle rule.
    :param dag_run: ``{"dag_id", "run_id"}`` recorded in each deletion's log entry.
    """
    enforcement: dict[str, Any] = {
        "purge": {"enabled": False},
        "object_lock": {"enabled": False},
        "lifecycle": {"enabled": False},
        "collect_unpublished": {"enabled": False},
    }
    if collect_unpublished:
        enforcement["collect_unpublished"] = lake_retention.collect_unpublished(storage, layout, account_id)
    if purge_expired:
        enforcement["purge"] = lake_retention.purge_expired(
            storage, layout, account_id, as_of, years=years, grace_days=grace_days, dag_run=dag_run
        )
    if object_lock_mode:
        enforcement["object_lock"] = lake_retention.apply_object_lock(
            storage, layout, account_id, as_of, mode=object_lock_mode, years=years
        )
    if lifecycle:
        enforcement["lifecycle"] = lake_retention.apply_lifecycle(
            storage, layout, years=years, grace_days=grace_days
        )
    return enforcement


def enforcement_failure(enforcement: dict[str, Any]) -> str | None:
    """The message a task fails with when an enforcement action reported errors, else None."""
    failed = {k: v["errors"] for k, v in enforcement.items() if v.get("errors")}
    if not failed:
        return None
    return "Retention enforcement reported errors (the report records them): " + "; ".join(
        f"{k}: {len(v)} error(s), first {v[0]}" for k, v in failed.items()
    )
