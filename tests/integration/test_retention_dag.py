"""The retention operator and the vobiz_trai_retention DAG, run by real Airflow (dag.test) against moto's S3."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage
from tests.integration.test_retention import locked_lake, seed_partition  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "dags"
ACCOUNT = "MA_DAGTEST1"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils import db

    db.initdb()


def test_dag_writes_the_report_and_purges_when_enabled(s3_lake, airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage("aws_default", layout.bucket)
    client = s3_lake.client()
    for day in [dt.date(2026, 11, 24), dt.date(2026, 11, 26), dt.date(2024, 9, 1)]:
        seed_partition(client, layout, ACCOUNT, day)
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_LAKE_URI", s3_lake.uri)
    # No account param nor Variable: the account is the vobiz connection's login (Auth ID).
    monkeypatch.setenv(
        "AIRFLOW_CONN_VOBIZ_DEFAULT",
        json.dumps(
            {"conn_type": "vobiz", "host": "http://127.0.0.1:9", "login": ACCOUNT, "password": "tok-123456"}
        ),
    )
    dag = DagBag(str(DAGS)).dags["vobiz_trai_retention"]
    run = dag.test(
        logical_date=dt.datetime(2026, 11, 27, 6, 0, tzinfo=IST),
        run_conf={"purge_expired": True, "grace_days": 30},
    )
    assert run.state == "success"

    report = storage.get_json(layout.retention_report_key(ACCOUNT, "2026-11-27", "json"))
    assert report["as_of"] == "2026-11-27"
    assert report["window"] == {"start": "2024-11-27", "end": "2026-11-26", "days": 730}
    assert report["totals"]["verified_days"] == 2
    assert report["totals"]["gaps"][-1] == {"start": "2026-11-25", "end": "2026-11-25", "days": 1}
    assert report["dag_run"]["dag_id"] == "vobiz_trai_retention"
    assert report["enforcement"]["purge"]["enabled"] is True
    assert [d["call_date"] for d in report["enforcement"]["purge"]["deleted"]] == ["2024-09-01"]
    assert [d["call_date"] for d in report["totals"]["deletions"]] == ["2024-09-01"]
    assert report["enforcement"]["object_lock"] == {"enabled": False}
    for ext in ("csv", "html", "pdf"):
        assert storage.exists(layout.retention_report_key(ACCOUNT, "2026-11-27", ext))
    assert "tok-123456" not in json.dumps(report)


def test_operator_resolves_account_and_as_of(s3_lake, monkeypatch):
    from airflow_provider_vobiz.operators.retention_report import TraiRetentionReportOperator

    layout = LakeLayout.from_uri(s3_lake.uri)
    seed_partition(s3_lake.client(), layout, ACCOUNT, dt.date(2024, 2, 29))
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_ACCOUNT_ID", ACCOUNT)
    op = TraiRetentionReportOperator(
        task_id="r", lake_uri=s3_lake.uri, retention_years="1", lifecycle="False", formats=("json",)
    )
    # 2024-03-01 23:00 UTC is 2024-03-02 in Asia/Kolkata: the window ends on 2024-03-01.
    result = op.execute({"logical_date": dt.datetime(2024, 3, 1, 23, 0, tzinfo=dt.timezone.utc)})
    assert result["as_of"] == "2024-03-02"
    assert result["account_id"] == ACCOUNT
    assert result["expected_days"] == 366  # 2023-03-02 .. 2024-03-01 holds 2024-02-29
    assert result["verified_days"] == 1
    assert list(result["reports"]) == ["json"]


def test_operator_rejects_bad_settings(s3_lake):
    from airflow_provider_vobiz.operators.retention_report import TraiRetentionReportOperator

    op = TraiRetentionReportOperator(task_id="r", lake_uri=s3_lake.uri, account_id=ACCOUNT, verify="deep")
    with pytest.raises(ValueError, match="verify must be one of"):
        op.execute({"logical_date": dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)})
    op = TraiRetentionReportOperator(task_id="r2", lake_uri="bucket/lake", account_id=ACCOUNT)
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        op.execute({"logical_date": dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)})


def test_dag_applies_object_lock_and_lifecycle(locked_lake, airflow_db, monkeypatch):  # noqa: F811
    from airflow.dag_processing.dagbag import DagBag

    client, layout, storage = locked_lake
    seed_partition(client, layout, ACCOUNT, dt.date(2026, 11, 26), legal_hold=True)
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_LAKE_URI", layout.uri)
    dag = DagBag(str(DAGS)).dags["vobiz_trai_retention"]
    run = dag.test(
        logical_date=dt.datetime(2026, 11, 27, 6, 0, tzinfo=IST),
        run_conf={
            "account_id": ACCOUNT,
            "object_lock_mode": "governance",
            "lifecycle": True,
            "verify": "full",
        },
    )
    assert run.state == "success"
    head = client.head_object(Bucket=layout.bucket, Key=layout.part_key(ACCOUNT, "2026-11-26", 0))
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockLegalHoldStatus"] == "ON"
    rules = client.get_bucket_lifecycle_configuration(Bucket=layout.bucket)["Rules"]
    assert [r["ID"] for r in rules] == ["vobiz-cdr-retention"]
    report = storage.get_json(layout.retention_report_key(ACCOUNT, "2026-11-27", "json"))
    assert report["verify"] == "full" and report["completeness"]["mode"] == "full"
    assert report["enforcement"]["object_lock"]["applied"][0]["call_date"] == "2026-11-26"
    assert report["enforcement"]["lifecycle"]["expiration_days"] == 762
    assert report["enforcement"]["purge"] == {"enabled": False}
    assert report["days"][-1]["retain_until"] == "2028-11-26T18:30:00Z"
