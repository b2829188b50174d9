"""vobiz_cdr_ingest: each IST day's Vobiz CDRs into the lake, validated, announced as an Asset event.

Every run handles its own day (the data interval, midnight to midnight in the configured timezone) and re-pulls
the ``repull_days`` days before it, so CDRs that reach the API late restate their partition (the change is kept
in the partition manifest's history; an unchanged day is left untouched). Each day is one mapped task group
(extract, then quality), so a two-year backfill is independent day-sized tasks the executor spreads out.

Configuration: DAG params, whose empty defaults fall back to Airflow Variables (``vobiz_lake_uri``,
``vobiz_timezone``, ``vobiz_repull_days``, ``vobiz_method``, ``vobiz_account_id``,
``vobiz_max_reject_ratio``) and then to the provider's defaults; connections ``vobiz_default`` and
``aws_default`` unless the params name others.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import AssetAlias, CronDataIntervalTimetable, Param, dag, task, task_group

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.notifications import alert_on_failure
from airflow_provider_vobiz.operators.quality import VobizCdrQualityOperator
from airflow_provider_vobiz.operators.tokenised import VobizCdrTokenisedZoneOperator
from airflow_provider_vobiz.pools import API_POOL
from airflow_provider_vobiz.transfers.vobiz_to_s3 import VobizCdrToS3Operator

CDR_PARTITIONS_ALIAS = AssetAlias(name="vobiz_cdr_partitions")


LAKE_URI = settings.template("lake_uri")
TIMEZONE = settings.template("timezone")
METHOD = settings.template("method")
MAX_REJECT_RATIO = settings.template("max_reject_ratio")


@task
def plan_days(*, params: dict, data_interval_start: pendulum.DateTime) -> list[dict[str, str]]:
    """The run's own day first, then the re-pull days (newest first)."""
    timezone = settings.resolve("timezone", params=params)
    repull = settings.resolve("repull_days", params=params)
    account_id = settings.account_id(params=params)
    day = pendulum.instance(data_interval_start).in_timezone(timezone).date()
    days = [day - dt.timedelta(days=n) for n in range(repull + 1)]
    return [{"call_date": d.isoformat(), "account_id": account_id} for d in days]


@task_group
def ingest_day(call_date: str, account_id: str):
    # What every task of the day works on: the same partition of the same lake.
    day = dict(
        aws_conn_id="{{ params.aws_conn_id }}",
        lake_uri=LAKE_URI,
        call_date=call_date,
        account_id=account_id,
    )
    extract = VobizCdrToS3Operator(
        task_id="extract",
        # One slot per running export: the pool's size bounds the load a backfill puts on the API.
        pool=API_POOL,
        vobiz_conn_id="{{ params.vobiz_conn_id }}",
        timezone=TIMEZONE,
        method=METHOD,
        max_reject_ratio=MAX_REJECT_RATIO,
        **day,
    )
    quality = VobizCdrQualityOperator(task_id="quality", **day)
    # Analysts' copy, phone numbers as keyed tokens: only of a day that passed quality.
    tokenised = VobizCdrTokenisedZoneOperator(task_id="tokenised", **day)
    extract >> quality >> tokenised
    return extract.output


# One announce at a time across runs: concurrent first events through the alias race in Airflow's own
# alias-to-asset insert (a unique violation that fails a task which had succeeded).
@task(outlets=[CDR_PARTITIONS_ALIAS], max_active_tis_per_dag=1)
def announce(results: list[dict] | dict, lake_uri: str, *, outlet_events=None) -> list[dict]:
    """One Asset event per partition that is new or changed (the summary DAG listens)."""
    # With a single mapped day Airflow hands over that day's summary itself rather than a list of one.
    summaries = [results] if isinstance(results, dict) else list(results)
    announced = []
    for summary in summaries:
        if not summary or not summary.get("changed", True):
            continue
        extra = {k: summary.get(k) for k in ("account_id", "call_date", "row_count", "content_sha256")}
        extra.update(lake_uri=lake_uri, changed=True)
        outlet_events[CDR_PARTITIONS_ALIAS].add(settings.CDR_PARTITION_ASSET, extra=extra)
        announced.append(extra)
    return announced


@task
def notify(results: list[dict] | dict, lake_uri: str, *, params: dict) -> dict | None:
    """Whatever the days' outcomes: one digest of the days with warnings, and restated reported days."""
    from airflow.sdk import get_current_context

    from airflow_provider_vobiz.notifications import ingest_alerts

    context = get_current_context()
    return ingest_alerts(results, lake_uri=lake_uri, aws_conn_id=params["aws_conn_id"], context=context)


@dag(
    dag_id=settings.INGEST_DAG_ID,
    description="Daily Vobiz CDRs into the Parquet lake on S3, validated with Great Expectations",
    # A data-interval timetable: Airflow 3's @daily has a zero-length interval.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=settings.DEFAULT_TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=settings.DEFAULT_TIMEZONE),
    catchup=False,
    max_active_runs=4,
    default_args={
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(minutes=20),
        "on_failure_callback": alert_on_failure,  # after the last retry; off until configured
    },
    params={
        "lake_uri": settings.lake_uri_param(),
        "timezone": Param(
            "", type="string", description="Partition timezone; empty: Variable vobiz_timezone"
        ),
        "method": Param("", type="string", description="export or list; empty: Variable vobiz_method"),
        "repull_days": Param(
            None,
            type=["null", "integer"],
            minimum=0,
            description="Days re-pulled for late CDRs; null: Variable",
        ),
        "account_id": Param(
            "", type="string", description="Vobiz auth id; empty: Variable vobiz_account_id, then the login"
        ),
        "max_reject_ratio": settings.max_reject_ratio_param(),
        "vobiz_conn_id": Param(settings.DEFAULT_VOBIZ_CONN_ID, type="string"),
        "aws_conn_id": Param(settings.DEFAULT_AWS_CONN_ID, type="string"),
    },
    tags=["vobiz", "cdr", "lake"],
    doc_md=__doc__,
)
def vobiz_cdr_ingest():
    extracted = ingest_day.expand_kwargs(plan_days())
    announce(extracted, lake_uri=LAKE_URI)
    # After every day's extract and quality, whatever their outcome. A teardown, so it never decides the
    # run's state: a day that failed still fails the run.
    extracted.operator.task_group >> notify(extracted, lake_uri=LAKE_URI).as_teardown()


vobiz_cdr_ingest()
