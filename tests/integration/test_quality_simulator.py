"""A simulator day, ingested through the lake code, passes the shipped suite.

The simulator is built independently of the client, so this is the suite checked against data
it was not written next to: the documented hangup causes, ~48% answered, MOS/jitter/packet loss, INR costs.
"""

from __future__ import annotations

from unittest import mock

import pytest

from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.records import read_quality
from airflow_provider_vobiz.operators.quality import VobizCdrQualityOperator
from airflow_provider_vobiz.transfers.vobiz_to_s3 import VobizCdrToS3Operator

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("method", ["export", "list"])
def test_a_clean_simulator_day_passes(s3_lake, vobiz_conn, method):
    context = {"ti": mock.MagicMock()}
    ingest = VobizCdrToS3Operator(
        task_id="ingest", lake_uri=s3_lake.uri, call_date="2026-03-02", method=method
    )
    summary = ingest.execute(context)
    assert summary["row_count"] > 200

    quality = VobizCdrQualityOperator(task_id="quality", lake_uri=s3_lake.uri, call_date="2026-03-02")
    result = quality.execute(context)
    assert result["status"] == "passed", result
    assert result["rows"] == summary["row_count"] and result["failed_warning"] == []
    manifest = read_manifest(ingest.storage, ingest.layout, summary["account_id"], "2026-03-02")
    verdict = read_quality(ingest.storage, ingest.layout, summary["account_id"], "2026-03-02")
    assert verdict["status"] == "passed" and verdict["content_sha256"] == manifest["content_sha256"]
    assert manifest["reconciliation"]["records_read"] == manifest["reconciliation"]["api_total"]
