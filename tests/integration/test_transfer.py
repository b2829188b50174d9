"""VobizCdrToS3Operator: templates, the day from the data interval, XCom, the extra link, clear failures."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_vobiz.lake.ingest import IngestError
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.links.lake import PARTITION_URL_XCOM_KEY, VobizPartitionLink, partition_url
from airflow_provider_vobiz.transfers.vobiz_to_s3 import VobizCdrToS3Operator
from tests.fixtures.s3 import set_conn

pytestmark = pytest.mark.integration

ACCOUNT = "MA_DEMO0001"
UTC = dt.timezone.utc


class _TI:
    """Records what the task pushes to XCom (the task runner's part, not under test here)."""

    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def _context(**extra):
    return {"ti": _TI(), "params": {}, **extra}


def test_templated_call_date_xcom_summary_and_link(vobiz_conn, s3_lake):
    op = VobizCdrToS3Operator(
        task_id="ingest",
        lake_uri="{{ params.lake }}",
        call_date="{{ params.day }}",
        timezone="{{ params.tz }}",
        method="list",
        pad_days="{{ params.pad }}",
    )
    assert VobizPartitionLink in {type(link) for link in op.operator_extra_links}
    ctx = _context(params={"lake": s3_lake.uri, "day": "2026-03-02", "tz": "Asia/Kolkata", "pad": "1"})
    op.render_template_fields(ctx)
    assert (op.lake_uri, op.call_date, op.pad_days) == (s3_lake.uri, "2026-03-02", "1")
    summary = op.execute(ctx)
    assert summary["account_id"] == ACCOUNT and summary["call_date"] == "2026-03-02"
    assert summary["row_count"] > 0 and summary["changed"] is True and summary["rejects"] == 0
    assert summary["manifest_key"].endswith("call_date=2026-03-02/_manifest.json")
    assert set(summary) >= {"content_sha256", "restated", "partition_uri"}
    assert len(repr(summary)) < 1000  # a small XCom
    url = ctx["ti"].pushed[PARTITION_URL_XCOM_KEY]
    assert url == (
        f"{s3_lake.server.endpoint_url}/{s3_lake.bucket}/lake/cdr/account_id={ACCOUNT}/call_date=2026-03-02/"
    )
    m = read_manifest(op.storage, op.layout, ACCOUNT, "2026-03-02")
    assert m["row_count"] == summary["row_count"] and m["source"]["method"] == "list"


@pytest.mark.parametrize(("tz", "day"), [("Asia/Kolkata", "2026-03-02"), ("UTC", "2026-03-01")])
def test_the_day_comes_from_the_data_interval_in_the_timezone(vobiz_conn, s3_lake, tz, day):
    # CronDataIntervalTimetable("@daily", timezone=IST) starts the interval of 2 March at 18:30 UTC on 1 March.
    start = dt.datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
    op = VobizCdrToS3Operator(task_id="ingest", lake_uri=s3_lake.uri, timezone=tz)
    ctx = _context(data_interval_start=start, data_interval_end=start + dt.timedelta(days=1))
    assert op.resolve_call_date(ctx) == dt.date.fromisoformat(day)
    assert op.execute(ctx)["call_date"] == day


def test_a_day_older_than_the_api_keeps_fails_clearly(simulator_factory, s3_lake, monkeypatch):
    sim = simulator_factory(api_retention_days=10)
    set_conn(monkeypatch, "vobiz_default", sim.conn_json())
    # Without the operator's own limit, the API's 400 is turned into a message that says what to do.
    op = VobizCdrToS3Operator(task_id="ingest", lake_uri=s3_lake.uri, call_date="2026-03-01")
    sim.set_now(dt.datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(IngestError, match="refused the query for 2026-03-01.*older than the API keeps"):
        op.execute(_context())
    # With max_api_age_days, it fails before any request.
    sim.clear_requests()
    op = VobizCdrToS3Operator(
        task_id="ingest", lake_uri=s3_lake.uri, call_date="2026-03-01", max_api_age_days="{{ params.age }}"
    )
    ctx = _context(params={"age": "10"})
    op.render_template_fields(ctx)
    with pytest.raises(IngestError, match="older than the Vobiz API keeps CDRs"):
        op.execute(ctx)
    assert sim.requests == []


def test_bad_parameters_are_clear(vobiz_conn, s3_lake):
    with pytest.raises(IngestError, match="method must be one of"):
        VobizCdrToS3Operator(task_id="t", lake_uri=s3_lake.uri, call_date="2026-03-02", method="csv").execute(
            _context()
        )
    with pytest.raises(ValueError, match="unknown timezone"):
        VobizCdrToS3Operator(
            task_id="t", lake_uri=s3_lake.uri, call_date="2026-03-02", timezone="IST"
        ).execute(_context())
    with pytest.raises(IngestError, match="no call_date and no data interval"):
        VobizCdrToS3Operator(task_id="t", lake_uri=s3_lake.uri).execute(_context())


def test_partition_url_for_aws_and_custom_endpoints():
    prefix = "lake/cdr/account_id=MA_1/call_date=2026-03-02/"
    assert partition_url("b", prefix, region="ap-south-1") == (
        "https://s3.console.aws.amazon.com/s3/buckets/b?prefix=lake%2Fcdr%2Faccount_id%3DMA_1%2F"
        "call_date%3D2026-03-02%2F&region=ap-south-1"
    )
    assert partition_url("b", prefix, endpoint_url="http://minio:9000/") == f"http://minio:9000/b/{prefix}"
