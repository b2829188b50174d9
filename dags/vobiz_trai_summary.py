"""TRAI summary reports: daily on each published CDR partition, monthly on the 1st for the month before.

Two DAGs in this file rather than one with an ``AssetOrTimeSchedule``: a run of such a DAG is either
asset-triggered (a day) or cron-triggered (a month), so every task would have to branch on how it was
started, and the two kinds would share one run history, one set of retries and one ``max_active_runs``.
Separate DAGs keep each schedule plain and each history readable:

- ``vobiz_trai_summary`` (``settings.SUMMARY_DAG_ID``): scheduled on ``CDR_PARTITION_ASSET``. One run may carry
  several events (a backfill, the daily re-pull restating late days); it reports each distinct
  (account, day) once, as a mapped task. Triggered by hand, it reports the ``account_id`` / ``call_date``
  params. Reports follow their data: it then regenerates each published report that no longer states the
  lake (the month of a day restated or published late, a changed verdict, a provisional month or day report
  whose days have left the re-pull window and so turns final); the superseded version is kept and listed.
- ``vobiz_trai_summary_monthly``: ``CronTriggerTimetable("0 6 1 * *", timezone="Asia/Kolkata")``; the run of
  1 November reports October, for the ``account_id`` param (default: the ``vobiz_account_id`` Variable) or,
  when that is empty, every account in the lake. On the 1st the month's last days are still inside the
  ingest's re-pull window, so the report says ``provisional``; the daily DAG regenerates it as they change
  and once more when it turns ``final``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.notifications import alert_on_failure, deliver_summary_report
from airflow_provider_vobiz.operators.summary_report import TraiSummaryReportOperator, days_from_asset_events

MONTHLY_DAG_ID = f"{settings.SUMMARY_DAG_ID}_monthly"
DEFAULT_ARGS = {
    "owner": "compliance",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
    "on_failure_callback": alert_on_failure,  # off until configured
}


def _report_task(task_id: str = "trai_summary_report", **kwargs: Any):
    return TraiSummaryReportOperator.partial(
        task_id=task_id,
        aws_conn_id="{{ params.aws_conn_id }}",
        on_success_callback=deliver_summary_report,  # e-mails the published report; off until configured
        **kwargs,
    )


@task
def days_to_report(params: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Each distinct (account, day) of the triggering partition events, or the params of a manual run."""
    context = get_current_context()
    lake_uri = settings.resolve("lake_uri", params=params)
    days = days_from_asset_events(context.get("triggering_asset_events"), lake_uri)
    if not days:
        if not params.get("account_id") or not params.get("call_date"):
            raise ValueError(
                "no partition event triggered this run: give the account_id and call_date params"
            )
        dt.date.fromisoformat(params["call_date"])
        days = [
            {
                "account_id": params["account_id"],
                "period": params["call_date"],
                "lake_uri": lake_uri,
            }
        ]
    return days


@task
def reports_to_refresh(
    days: list[dict[str, str]], params: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    """The published reports the days (or the calendar) made stale, as operator kwargs."""
    import logging

    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage
    from airflow_provider_vobiz.reports.summary import stale_reports

    # The ingest's window, not a param of this DAG: the Variable, else the default.
    repull_days = settings.resolve("repull_days")
    by_lake: dict[tuple[str, str], list[str]] = {}
    for d in days:
        by_lake.setdefault((d["account_id"], d["lake_uri"]), []).append(d["period"])
    out = []
    for (account_id, lake_uri), periods in sorted(by_lake.items()):
        layout = LakeLayout.from_uri(lake_uri)
        storage = LakeStorage(params["aws_conn_id"], layout.bucket)
        for period, why in stale_reports(storage, layout, account_id, periods, repull_days=repull_days):
            logging.getLogger(__name__).info("report %s %s is stale: %s", account_id, period, why)
            out.append({"account_id": account_id, "period": period, "lake_uri": lake_uri})
    return out


@dag(
    dag_id=settings.SUMMARY_DAG_ID,
    description="Daily TRAI summary report of each CDR partition published to the lake",
    schedule=[settings.CDR_PARTITION_ASSET],
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=4,
    default_args=DEFAULT_ARGS,
    tags=["vobiz", "trai", "reports"],
    params={
        "account_id": Param("", type="string", description="Manual runs: the account (auth id)."),
        "call_date": Param("", type="string", description="Manual runs: the IST day, YYYY-MM-DD."),
        "lake_uri": settings.lake_uri_param(),
        "aws_conn_id": Param(settings.DEFAULT_AWS_CONN_ID, type="string"),
    },
)
def vobiz_trai_summary():
    days = days_to_report()
    reports = _report_task().expand_kwargs(days)
    refresh = reports_to_refresh(days)
    reports >> refresh
    _report_task("trai_summary_refresh").expand_kwargs(refresh)


@task
def months_to_report(params: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The month before the run (IST), for the given account or every account found in the lake."""
    import zoneinfo

    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage
    from airflow_provider_vobiz.reports.summary import parse_period, previous_month

    context = get_current_context()
    month = (params.get("month") or "").strip()
    if month:
        if parse_period(month)[0] != "month":
            raise ValueError(f"month must be YYYY-MM, got {month!r}")
    else:
        when = context.get("logical_date") or context["dag_run"].run_after
        month = previous_month(when.astimezone(zoneinfo.ZoneInfo(settings.DEFAULT_TIMEZONE)).date())
    lake_uri = settings.resolve("lake_uri", params=params)
    # No connection step here: without an account the month is reported for every account in the lake.
    account = settings.resolve("account_id", params=params, default="")
    accounts = [account] if account else []
    if not accounts:
        layout = LakeLayout.from_uri(lake_uri)
        storage = LakeStorage(params["aws_conn_id"], layout.bucket)
        found = (layout.parse_account(p) for p in storage.list_prefixes(layout.cdr_root))
        accounts = sorted(a for a in found if a)
    if not accounts:
        raise ValueError(f"no account given and none found under {lake_uri}/cdr/")
    return [{"account_id": a, "period": month, "lake_uri": lake_uri} for a in accounts]


@dag(
    dag_id=MONTHLY_DAG_ID,
    description="Monthly TRAI summary report, on the 1st (IST) for the month before",
    schedule=CronTriggerTimetable("0 6 1 * *", timezone=settings.DEFAULT_TIMEZONE),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["vobiz", "trai", "reports"],
    params={
        "account_id": Param(
            "",
            type="string",
            description="The account (auth id); empty: Variable vobiz_account_id, else every account in the lake.",
        ),
        "month": Param(
            "", type="string", description="YYYY-MM; empty: the month before the run's date (IST)."
        ),
        "lake_uri": settings.lake_uri_param(),
        "aws_conn_id": Param(settings.DEFAULT_AWS_CONN_ID, type="string"),
    },
)
def vobiz_trai_summary_monthly():
    _report_task().expand_kwargs(months_to_report())


vobiz_trai_summary()
vobiz_trai_summary_monthly()
