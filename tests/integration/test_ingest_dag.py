"""vobiz_cdr_ingest through real Airflow (dag.test) against the simulator and the S3 server."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_vobiz import config
from airflow_provider_vobiz.lake.paths import LakeLayout

pytestmark = pytest.mark.integration

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def _midnight_ist(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), IST)


def _manifest(lake, account: str, day: dt.date) -> dict | None:
    return _object(lake, LakeLayout.from_uri(lake.uri).manifest_key(account, day))


def _verdict(lake, account: str, day: dt.date) -> dict | None:
    return _object(lake, LakeLayout.from_uri(lake.uri).verdict_key(account, day))


def _object(lake, key: str) -> dict | None:
    try:
        return json.loads(lake.client().get_object(Bucket=lake.bucket, Key=key)["Body"].read())
    except lake.client().exceptions.NoSuchKey:
        return None


def _ist_day_uuids(sim, day: dt.date) -> set[str]:
    start = _midnight_ist(day).astimezone(dt.timezone.utc)
    return {r["uuid"] for r in sim.records(start, start + dt.timedelta(days=1))}


def _asset_events(dag_run) -> list[dict]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter(AssetEvent.source_run_id == dag_run.run_id).all()
        return [dict(e.extra) for e in events]


def _link_urls(dag_run, key: str) -> list[str]:
    """The URLs the tasks stored for an extra link (as the api-server reads them)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.run_id == dag_run.run_id, XComModel.key == key).all()
        values = [r.value for r in rows]
    # Stored as JSON; depending on the dialect the column hands back the decoded string or its JSON text.
    return [json.loads(v) if isinstance(v, str) and v.startswith('"') else v for v in values]


@pytest.fixture
def ingest_dag(dagbag):
    """The ingest DAG without retries: a failing task must fail the test now, not after the retry delays."""
    dag = dagbag.dags[config.INGEST_DAG_ID]
    for task in dag.tasks:
        task.retries = 0
    return dag


@pytest.fixture
def ingest_env(monkeypatch, s3_lake):
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", s3_lake.uri)
    return s3_lake


def test_three_days_with_repull(ingest_dag, vobiz_conn, ingest_env, monkeypatch):
    sim, lake = vobiz_conn, ingest_env
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_REPULL_DAYS.upper()}", "1")
    dag = ingest_dag
    account = sim.config.auth_id
    for day in (dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)):
        # A manual run at the next IST midnight has the day as its data interval.
        run = dag.test(logical_date=_midnight_ist(day + dt.timedelta(days=1)))
        assert run.state == "success"
        manifest = _manifest(lake, account, day)
        assert manifest["call_date"] == day.isoformat()
        assert manifest["row_count"] == len(_ist_day_uuids(sim, day))
        assert _verdict(lake, account, day)["status"] in ("passed", "warning")
        events = _asset_events(run)
        assert {e["call_date"] for e in events} >= {day.isoformat()}
        assert all(e["account_id"] == account and e["lake_uri"] == lake.uri for e in events)
    # The extra links of the last run: each day's partition and its validation result, under the S3 endpoint.
    partitions = _link_urls(run, "vobiz_partition_url")
    validations = _link_urls(run, "vobiz_validation_url")
    assert len(partitions) == len(validations) == 2
    endpoint = lake.server.endpoint_url
    assert all(u.startswith(f"{endpoint}/{lake.bucket}/lake/cdr/account_id={account}/") for u in partitions)
    assert all(u.endswith("/validation.html") for u in validations)
    # The re-pulled days were unchanged: not restated, and not announced again.
    assert _manifest(lake, account, dt.date(2026, 3, 1))["history"] == []
    assert {e["call_date"] for e in _asset_events(run)} == {"2026-03-03"}


def test_late_cdrs_restate_a_day_and_an_unchanged_day_is_left_alone(
    ingest_dag, simulator_factory, ingest_env, monkeypatch
):
    sim = simulator_factory(late_fraction=0.1, late_delay=dt.timedelta(hours=20), days=3)
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", sim.conn_json())
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_REPULL_DAYS.upper()}", "1")
    lake, account = ingest_env, sim.config.auth_id
    dag = ingest_dag
    day1, day2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)

    # Day 1's run, early on day 2: its late CDRs are not in the API yet.
    sim.set_now(_midnight_ist(day2).astimezone(dt.timezone.utc) + dt.timedelta(hours=2))
    assert dag.test(logical_date=_midnight_ist(day2)).state == "success"
    first = _manifest(lake, account, day1)
    visible_then = len(_ist_day_uuids(sim, day1))
    assert first["row_count"] == visible_then

    # Day 2's run a day later re-pulls day 1, whose late CDRs have arrived: day 1 is restated.
    sim.set_now(
        _midnight_ist(day2 + dt.timedelta(days=1)).astimezone(dt.timezone.utc) + dt.timedelta(hours=2)
    )
    run = dag.test(logical_date=_midnight_ist(day2 + dt.timedelta(days=1)))
    assert run.state == "success"
    restated = _manifest(lake, account, day1)
    assert restated["row_count"] == len(_ist_day_uuids(sim, day1)) > visible_then
    (change,) = restated["history"]
    assert change["old_row_count"] == first["row_count"]
    assert change["new_row_count"] == restated["row_count"]
    assert change["old_content_sha256"] == first["content_sha256"]
    assert change["new_content_sha256"] == restated["content_sha256"]
    assert {e["call_date"] for e in _asset_events(run)} == {"2026-03-01", "2026-03-02"}

    # The same run again: nothing changed, so nothing is rewritten and nothing announced.
    key = LakeLayout.from_uri(lake.uri).manifest_key(account, day1)
    before = lake.client().head_object(Bucket=lake.bucket, Key=key)["ETag"]
    rerun = dag.test(logical_date=_midnight_ist(day2 + dt.timedelta(days=1)))
    assert rerun.state == "success"
    assert lake.client().head_object(Bucket=lake.bucket, Key=key)["ETag"] == before
    assert _manifest(lake, account, day1)["history"] == restated["history"]
    assert _asset_events(rerun) == []
