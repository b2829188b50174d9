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


def test_a_real_summary_report_on_the_page(viewer, s3_lake, monkeypatch):  # noqa: F811
    """The summary code's own document and renderings (here of a month the lake has no day of)."""
    from airflow_provider_vobiz.reports import summary as S
    from airflow_provider_vobiz.reports.privacy import NumberPolicy

    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", s3_lake.uri)
    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage("aws_default", layout.bucket)
    run = {"dag_id": config.SUMMARY_DAG_ID, "run_id": "manual__2026-03-01T00:00:00+00:00"}
    doc = S.generate(storage.filesystem, layout, "MA_REAL02", "2026-02", dag_run=run)
    S.publish(storage, layout, doc, S.render_outputs(doc, NumberPolicy(key=b"k" * 32)))

    detail = viewer.get(f"{PREFIX}/api/accounts/MA_REAL02").json()
    (month,) = detail["months"]
    assert month["period"] == "2026-02" and month["period_kind"] == "month"
    assert month["calls"] == doc["totals"]["calls"] == 0
    assert month["quality"] == doc["quality"]["worst_status"]
    assert month["missing_days"] == [str(d) for d in doc["missing_days"]] and len(month["missing_days"]) == 28
    assert month["formats"] == ["csv", "json", "html", "pdf"]
    assert month["dag_run"] == run
    page = viewer.get(PREFIX + "/", params={"account": "MA_REAL02"}).text
    assert "28: 2026-02-01, 2026-02-02" in page
    pdf = viewer.get(f"{PREFIX}/reports/summary/MA_REAL02/2026-02/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
