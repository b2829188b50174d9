"""The summary DAGs in real Airflow (``dag.test()``), and the operator's HMAC-key handling."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage

from .test_summary_report import ACCOUNT, CLIS, KEY, ORDINARY, _day_records, _write_day

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture
def lake_with_day(s3_lake, monkeypatch):
    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    _write_day(storage, layout, ORDINARY, _day_records(ORDINARY, 60, 0.5, 7), "passed")
    monkeypatch.setenv(
        "AIRFLOW_CONN_VOBIZ_REPORT_HMAC", json.dumps({"conn_type": "generic", "password": KEY.decode()})
    )
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_LAKE_URI", s3_lake.uri)
    return storage, layout


def _dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    bag = DagBag(dag_folder=str(REPO / "dags" / "vobiz_trai_summary.py"))
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def test_monthly_dag_reports_the_previous_month(airflow_db, lake_with_day) -> None:
    storage, layout = lake_with_day
    dag = _dag("vobiz_trai_summary_monthly")
    dr = dag.test(
        logical_date=dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.timezone.utc), run_conf={"account_id": ACCOUNT}
    )
    assert dr.state == "success"
    doc = json.loads(storage.get_bytes(layout.summary_report_key(ACCOUNT, "2026-10", "json")))
    assert doc["period"] == "2026-10" and doc["days_present"] == 1 and len(doc["missing_days"]) == 30
    assert doc["dag_run"]["dag_id"] == "vobiz_trai_summary_monthly"
    assert CLIS[0] not in json.dumps(doc)
    for ext in ("csv", "html", "pdf"):
        assert storage.exists(layout.summary_report_key(ACCOUNT, "2026-10", ext))


def test_daily_dag_manual_run(airflow_db, lake_with_day) -> None:
    storage, layout = lake_with_day
    dag = _dag("vobiz_trai_summary")
    dr = dag.test(run_conf={"account_id": ACCOUNT, "call_date": ORDINARY.isoformat()})
    assert dr.state == "success"
    doc = json.loads(storage.get_bytes(layout.summary_report_key(ACCOUNT, ORDINARY.isoformat(), "json")))
    assert doc["period_kind"] == "day" and doc["totals"]["calls"] == 66


def test_operator_needs_the_hmac_connection(lake_with_day, monkeypatch) -> None:
    from airflow_provider_vobiz.operators.summary_report import TraiSummaryReportOperator

    monkeypatch.delenv("AIRFLOW_CONN_VOBIZ_REPORT_HMAC")
    op = TraiSummaryReportOperator(
        task_id="t", account_id=ACCOUNT, period=ORDINARY.isoformat(), lake_uri="s3://b/lake"
    )
    with pytest.raises(ValueError, match="vobiz_report_hmac"):
        op.number_policy()
    with pytest.raises(ValueError, match="unknown report formats"):
        TraiSummaryReportOperator(
            task_id="u", account_id="A", period="2026-10", lake_uri="s3://b", formats=["xls"]
        )
