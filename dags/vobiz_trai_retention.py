"""vobiz_trai_retention: the daily TRAI retention report, and retention enforcement when enabled.

Each morning (06:00 Asia/Kolkata, after the ingest of the day before) the report inventories the retention
window as of the run's day in Asia/Kolkata: two calendar years up to yesterday (731 days when the window holds a
29 February). It lands under ``{lake}/reports/trai_retention/account_id=…/as_of=…/``.

Configuration: DAG params, whose empty defaults fall back to Airflow Variables (``vobiz_lake_uri``,
``vobiz_account_id``, ``vobiz_retention_years``) and then to the provider's defaults; the account falls back to
the login (Auth ID) of the ``vobiz_default`` connection. Enforcement is off unless a param turns it on:
``object_lock_mode`` (governance/compliance; the bucket needs Object Lock), ``lifecycle``, ``purge_expired``.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.notifications import alert_on_failure, deliver_retention_report
from airflow_provider_vobiz.operators.retention_report import TraiRetentionReportOperator


@dag(
    dag_id=settings.RETENTION_DAG_ID,
    description="Daily TRAI CDR retention inventory (two calendar years) and optional enforcement",
    # The report is as of the run's day; no data interval is needed, so a trigger timetable is right here.
    schedule=CronTriggerTimetable("0 6 * * *", timezone=settings.DEFAULT_TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=settings.DEFAULT_TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=5),
        "on_failure_callback": alert_on_failure,  # off until configured
    },
    params={
        "lake_uri": settings.lake_uri_param(),
        "account_id": Param(
            "", type="string", description="Vobiz auth id; empty: Variable vobiz_account_id, then the login"
        ),
        "as_of": Param("", type="string", description="YYYY-MM-DD; empty: the run's day in Asia/Kolkata"),
        "retention_years": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="null: Variable vobiz_retention_years, else 2",
        ),
        "verify": Param("manifest", enum=["manifest", "full"], description="full re-hashes every part"),
        "completeness": Param("", enum=["", "sample", "full", "none"], description="empty: by verify mode"),
        "object_lock_mode": Param("", enum=["", "governance", "compliance"], description="empty: off"),
        "lifecycle": Param(False, type="boolean", description="put the cdr/ lifecycle expiry rule"),
        "purge_expired": Param(False, type="boolean", description="delete days past retention + grace"),
        "grace_days": Param(30, type="integer", minimum=0),
        "vobiz_conn_id": Param(settings.DEFAULT_VOBIZ_CONN_ID, type="string"),
        "aws_conn_id": Param(settings.DEFAULT_AWS_CONN_ID, type="string"),
    },
    tags=["vobiz", "trai", "retention"],
    doc_md=__doc__,
)
def vobiz_trai_retention():
    TraiRetentionReportOperator(
        task_id="retention_report",
        lake_uri=settings.template("lake_uri"),
        account_id=settings.template("account_id"),
        as_of="{{ params.as_of }}",
        aws_conn_id="{{ params.aws_conn_id }}",
        vobiz_conn_id="{{ params.vobiz_conn_id }}",
        retention_years=settings.template("retention_years"),
        verify="{{ params.verify }}",
        completeness="{{ params.completeness }}",
        object_lock_mode="{{ params.object_lock_mode }}",
        lifecycle="{{ params.lifecycle }}",
        purge_expired="{{ params.purge_expired }}",
        grace_days="{{ params.grace_days }}",
        # Provisional while the window's last day can be re-pulled: the ingest's window (Variable, else 3).
        repull_days=settings.template("repull_days", from_params=False),
        # The retention alert (gaps, mismatches, unlocked days expiring) and the report by e-mail.
        on_success_callback=deliver_retention_report,
    )


vobiz_trai_retention()
