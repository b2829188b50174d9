"""VobizCdrQualityOperator: templated, thin, and failing its task with a readable, masked message."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pyarrow as pa
import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.records import read_quality
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.operators.quality import VobizCdrQualityOperator
from tests.fixtures.s3 import set_conn
from tests.support.lake_data import clean_day, write_partition

pytestmark = pytest.mark.integration

ACCOUNT = "MA_OPERATOR1"
DAY = dt.date(2026, 4, 2)


def _publish(lake, table):
    storage = LakeStorage(lake.aws_conn_id, lake.bucket)
    layout = LakeLayout.from_uri(lake.uri)
    write_partition(storage, layout, ACCOUNT, DAY, table)
    return storage, layout


def _operator(**kwargs) -> VobizCdrQualityOperator:
    defaults = {
        "task_id": "quality",
        "lake_uri": "{{ params.lake_uri }}",
        "call_date": "{{ ds }}",
        "account_id": "{{ params.account_id }}",
    }
    return VobizCdrQualityOperator(**(defaults | kwargs))


def _run(op: VobizCdrQualityOperator, lake) -> dict:
    context = {
        "ds": DAY.isoformat(),
        "params": {"lake_uri": lake.uri, "account_id": ACCOUNT},
        "ti": mock.MagicMock(),
    }
    op.render_template_fields(context)
    return op.execute(context)


def test_constructing_the_operator_touches_nothing():
    op = _operator(lake_uri="s3://nowhere/lake")
    assert set(op.template_fields) == {
        "aws_conn_id",
        "lake_uri",
        "call_date",
        "account_id",
        "suite_path",
        "verify",
    }
    assert "storage" not in op.__dict__ and "layout" not in op.__dict__


def test_passing_day(s3_lake):
    storage, layout = _publish(s3_lake, clean_day(200, DAY, seed=3))
    op = _operator()
    summary = _run(op, s3_lake)
    assert op.call_date == "2026-04-02" and op.account_id == ACCOUNT and op.lake_uri == s3_lake.uri
    assert summary["status"] == "passed" and summary["rows"] == 200
    assert summary["validation_uri"] == layout.s3_uri(layout.validation_key(ACCOUNT, DAY, "json"))
    json.dumps(summary)  # small and JSON-safe for XCom
    assert read_quality(storage, layout, ACCOUNT, DAY)["status"] == "passed"


def test_warning_is_recorded_and_does_not_fail_the_task(s3_lake):
    table = clean_day(200, DAY, seed=4)
    causes = table["hangup_cause"].to_pylist()
    causes[3] = "BRAND_NEW_CAUSE"
    table = table.set_column(table.schema.get_field_index("hangup_cause"), "hangup_cause", pa.array(causes))
    storage, layout = _publish(s3_lake, table)
    summary = _run(_operator(), s3_lake)
    assert summary["status"] == "warning" and summary["failed_warning"] == ["hangup_cause_documented"]
    assert read_quality(storage, layout, ACCOUNT, DAY)["status"] == "warning"
    with pytest.raises(AirflowFailException, match="hangup_cause_documented"):
        _run(_operator(fail_on_warning=True), s3_lake)


def test_critical_failure_fails_the_task_with_a_masked_message(s3_lake):
    table = clean_day(200, DAY, seed=5)
    numbers = table["caller_id_number"].to_pylist()
    full = numbers[7]
    numbers[7] = full.lstrip("+")
    table = table.set_column(
        table.schema.get_field_index("caller_id_number"), "caller_id_number", pa.array(numbers)
    )
    storage, layout = _publish(s3_lake, table)
    with pytest.raises(AirflowFailException) as err:
        _run(_operator(), s3_lake)
    message = str(err.value)
    assert "caller_id_number_e164" in message and "1 unexpected of 200" in message
    assert f"'••••{full[-4:]}'" in message and full.lstrip("+") not in message
    assert read_quality(storage, layout, ACCOUNT, DAY)["status"] == "failed"


def test_account_defaults_to_the_vobiz_connection_login(s3_lake, monkeypatch):
    _publish(s3_lake, clean_day(50, DAY, seed=6))
    set_conn(
        monkeypatch,
        "vobiz_default",
        json.dumps(
            {"conn_type": "vobiz", "host": "http://127.0.0.1:1", "login": ACCOUNT, "password": "tok-secret"}
        ),
    )
    op = VobizCdrQualityOperator(task_id="q", lake_uri=s3_lake.uri, call_date=DAY.isoformat())
    summary = op.execute({})
    assert summary["account_id"] == ACCOUNT and summary["status"] == "passed"


def test_an_unchanged_day_keeps_its_verdict_unless_asked_to_revalidate(s3_lake):
    storage, layout = _publish(s3_lake, clean_day(50, DAY, seed=5))
    first = _run(_operator(lake_uri=s3_lake.uri), s3_lake)
    key = layout.manifest_key(ACCOUNT, DAY)
    etag = s3_lake.client().head_object(Bucket=s3_lake.bucket, Key=key)["ETag"]

    again = _run(_operator(lake_uri=s3_lake.uri), s3_lake)
    assert again["status"] == first["status"] == "passed"
    assert "html_uri" not in again  # the recorded verdict, not a new validation
    assert s3_lake.client().head_object(Bucket=s3_lake.bucket, Key=key)["ETag"] == etag  # nothing rewritten

    forced = _run(_operator(lake_uri=s3_lake.uri, revalidate=True), s3_lake)
    assert forced["status"] == "passed" and forced["html_uri"]  # validated again
