"""The page reads what the report code really writes (not only hand-made samples)."""

from __future__ import annotations

import hashlib

import pytest

from airflow_provider_vobiz import config
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage
from tests.integration.test_plugin_api import PREFIX, airflow_app, client, viewer  # noqa: F401

pytestmark = pytest.mark.integration


def test_a_real_retention_report_on_the_page(viewer, s3_lake, monkeypatch):  # noqa: F811
    from airflow_provider_vobiz.reports.retention import run_retention_report

    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", s3_lake.uri)
    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage("aws_default", layout.bucket)
    run = {"dag_id": config.RETENTION_DAG_ID, "run_id": "manual__2026-06-01T00:00:00+00:00"}
    report, _ = run_retention_report(storage, layout, "MA_REAL01", "2026-06-01", dag_run=run)

    page = viewer.get(PREFIX + "/")
    assert page.status_code == 200, page.text
    text = page.text
    # An empty lake: every day of the window is a gap; the officer sees it at once.
    assert "MA_REAL01" in text and "0.00%" in text
    gap = report["totals"]["gaps"][0]
    assert f"{gap['start']} – {gap['end']} ({gap['days']} days)" in text
    assert 'href="/dags/vobiz_trai_retention/runs/manual__2026-06-01T00%3A00%3A00%2B00%3A00"' in text

    pdf = viewer.get(f"{PREFIX}/reports/retention/MA_REAL01/2026-06-01/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    key = layout.retention_report_key("MA_REAL01", "2026-06-01", "pdf")
    assert hashlib.sha256(pdf.content).hexdigest() == hashlib.sha256(storage.get_bytes(key)).hexdigest()
