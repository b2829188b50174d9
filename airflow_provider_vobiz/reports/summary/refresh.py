"""Which published summary reports no longer state the lake, and why (the DAG regenerates those)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from airflow_provider_vobiz.cdr.window import DEFAULT_REPULL_DAYS, local_today
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.reports.summary.config import SummaryConfig
from airflow_provider_vobiz.reports.summary.inputs import collect_inputs
from airflow_provider_vobiz.reports.summary.period import parse_period, previous_month, report_status
from airflow_provider_vobiz.reports.summary.versions import why_superseded

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.storage import LakeStorage


def refresh_reason(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    period: str,
    *,
    config: SummaryConfig | None = None,
    repull_days: int = DEFAULT_REPULL_DAYS,
    today: dt.date | None = None,
) -> str | None:
    """Why the published report of ``period`` no longer states the lake (a day restated or published,
    a verdict changed, provisional turned final), or None: also None when there is no such report (a
    month's report is made by its own run, never by a refresh)."""
    raw = storage.get_bytes_or_none(layout.summary_report_key(account_id, period, "json"))
    if raw is None:
        return None
    old = json.loads(raw)
    config = config or SummaryConfig()
    _, days = parse_period(period)
    inputs = [d for d in collect_inputs(storage.filesystem, layout, account_id, days) if d.present]
    today = today or local_today(config.timezone)
    now = {
        "inputs": [
            {
                "call_date": d.call_date,
                "manifest_sha256": d.manifest_sha256,
                "row_count": d.row_count,
            }
            for d in inputs
        ],
        "quality": {"days": {d.call_date: {"status": d.quality.get("status") or "pending"} for d in inputs}},
        "status": report_status(period, today, repull_days),
        "config": old.get("config"),
    }
    return why_superseded(old, now)


def stale_reports(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    days: Iterable[str],
    *,
    repull_days: int = DEFAULT_REPULL_DAYS,
    today: dt.date | None = None,
    config: SummaryConfig | None = None,
) -> list[tuple[str, str]]:
    """``(period, why)`` for each published report that no longer states the lake, oldest first:

    - the month reports of ``days`` (days just restated or published, whose own reports are being made);
    - the month report of the month before ``today``, which turns final early in the month;
    - the daily reports of the days that turned final in the last three days (``today - repull_days - 2``
      and the two days before, so a missed run catches up).

    A period without a report is left alone: the daily and monthly runs make first versions.
    """
    config = config or SummaryConfig()
    today = today or local_today(config.timezone)
    given = {str(d) for d in days}
    periods = {d[:7] for d in given} | {previous_month(today)}
    newly_final = today - dt.timedelta(days=repull_days + 2)
    periods |= {(newly_final - dt.timedelta(days=i)).isoformat() for i in range(3)} - given
    out = []
    for period in sorted(periods):
        why = refresh_reason(
            storage, layout, account_id, period, config=config, repull_days=repull_days, today=today
        )
        if why:
            out.append((period, why))
    return out
