"""The compliance page's routes in Airflow's own app factory, against the moto S3 server.

Reports are written into the ``s3_lake`` bucket in the shapes the report DAGs write (keys from
``LakeLayout``); requests go through ``create_app`` with the SimpleAuthManager, so authentication and DAG
authorization are Airflow's own.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from airflow_provider_vobiz import config
from airflow_provider_vobiz.lake.paths import LakeLayout

pytestmark = pytest.mark.integration

ACCOUNT = "MA_DEMO01"
OTHER = "MA_OTHER2"
PREFIX = "/compliance-reports"


# -- sample reports (also used by the browser test) ---------------------------------------------------------
def sample_pdf(title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    c.drawString(72, 770, title)
    c.drawString(72, 750, "Calls 1,234  ASR 48.2%")
    c.showPage()
    c.save()
    return buf.getvalue()


def _html(title: str) -> bytes:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>body{{font-family:sans-serif}}</style></head><body><h1>{title}</h1>"
        "<p>Calls 1,234, ASR 48.2%</p><script>document.title='pwned'</script></body></html>"
    ).encode()


@dataclass
class SampleLake:
    layout: LakeLayout
    objects: dict[str, bytes]

    def sha256(self, key: str) -> str:
        return hashlib.sha256(self.objects[key]).hexdigest()


def write_sample_reports(client, lake_uri: str) -> SampleLake:
    """Two accounts: monthly and daily summaries and two retention reports (the later one wins)."""
    layout = LakeLayout.from_uri(lake_uri)
    objects: dict[str, bytes] = {}

    def put(key: str, data: bytes) -> None:
        client.put_object(Bucket=layout.bucket, Key=key, Body=data)
        objects[key] = data

    def summary(account: str, period: str, calls: int, answered: int, status: str, run_id: str | None):
        doc = {
            "account_id": account,
            "period": period,
            "period_kind": "month" if len(period) == 7 else "day",
            "generated_at": "2026-06-02T01:00:00Z",
            "totals": {"calls": calls, "answered": answered, "asr": round(answered / calls, 4)},
            "quality": {"worst_status": status},
            "missing_days": ["2026-05-07"] if period == "2026-05" else [],
            "dag_run": {"dag_id": config.SUMMARY_DAG_ID, "run_id": run_id} if run_id else None,
        }
        title = f"TRAI summary {account} {period}"
        put(layout.summary_report_key(account, period, "json"), json.dumps(doc).encode())
        put(layout.summary_report_key(account, period, "csv"), b"metric,value\ncalls,%d\n" % calls)
        put(layout.summary_report_key(account, period, "html"), _html(title))
        put(layout.summary_report_key(account, period, "pdf"), sample_pdf(title))

    summary(ACCOUNT, "2026-05", 30480, 14630, "warning", "scheduled__2026-06-01T00:00:00+00:00")
    summary(ACCOUNT, "2026-04", 29950, 14420, "passed", None)
    summary(ACCOUNT, "2026-05-31", 1012, 488, "passed", "asset_triggered__2026-06-01T00:30:00+00:00")
    summary(ACCOUNT, "2026-05-30", 987, 470, "failed", "asset_triggered__2026-05-31T00:30:00+00:00")
    summary(ACCOUNT, "2026-04-30", 990, 471, "passed", None)
    summary(OTHER, "2026-05", 100, 50, "passed", None)

    def retention(account: str, as_of: str, coverage: float, gaps: list, expiring: list) -> None:
        doc = {
            "account_id": account,
            "as_of": as_of,
            "generated_at": f"{as_of}T02:00:00Z",
            "window": {"start": "2024-06-01", "end": as_of, "days": 731},
            "totals": {
                "expected_days": 731,
                "verified_days": round(731 * coverage),
                "coverage": coverage,
                "gaps": gaps,
                "expiring_within_30_days": expiring,
            },
            "dag_run": {"dag_id": config.RETENTION_DAG_ID, "run_id": f"scheduled__{as_of}T00:00:00+00:00"},
        }
        title = f"TRAI retention {account} {as_of}"
        put(layout.retention_report_key(account, as_of, "json"), json.dumps(doc).encode())
        put(layout.retention_report_key(account, as_of, "csv"), b"call_date,status\n2024-06-01,present\n")
        put(layout.retention_report_key(account, as_of, "html"), _html(title))
        put(layout.retention_report_key(account, as_of, "pdf"), sample_pdf(title))

    retention(ACCOUNT, "2026-05-31", 0.9, [], [])
    retention(
        ACCOUNT,
        "2026-06-01",
        0.9959,
        [
            {"start": "2025-02-10", "end": "2025-02-11", "days": 2},
            {"start": "2025-08-15", "end": "2025-08-15", "days": 1},
        ],
        [
            {"call_date": "2024-06-01", "expires_on": "2026-06-02", "legal_hold": False},
            {"call_date": "2024-06-02", "expires_on": "2026-06-03", "legal_hold": True},
        ],
    )
    retention(OTHER, "2026-06-01", 1.0, [], [])
    # Not a report: the page must never serve it even though it sits in the same bucket.
    put(layout.key("cdr", f"account_id={ACCOUNT}", "call_date=2026-05-31", "_manifest.json"), b"{}")
    return SampleLake(layout=layout, objects=objects)


# -- the app ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def airflow_app():
    """Airflow's api-server app (``create_app``), with a migrated metadata DB for DAG authorization."""
    from airflow.utils import db

    db.initdb()
    from airflow.api_fastapi.app import create_app

    return create_app(apps="core")


@pytest.fixture
def lake(s3_lake, monkeypatch) -> SampleLake:
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", s3_lake.uri)
    return write_sample_reports(s3_lake.client(), s3_lake.uri)


def _token(role: str | None) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=f"t-{role}", role=role))


@pytest.fixture
def client(airflow_app) -> Iterator:
    from fastapi.testclient import TestClient

    with TestClient(airflow_app) as c:
        yield c


@pytest.fixture
def viewer(client):
    client.headers["Authorization"] = f"Bearer {_token('viewer')}"
    return client


# -- tests --------------------------------------------------------------------------------------------------
def test_plugin_is_registered_through_the_entry_point(client):
    tok = _token("admin")
    plugins = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {tok}"}).json()["plugins"]
    mine = [p for p in plugins if p["name"] == "vobiz_compliance_reports"]
    assert len(mine) == 1, "registered once, through airflow.plugins only"
    (view,) = mine[0]["external_views"]
    assert view["name"] == "Compliance reports" and view["url_route"] == "compliance-reports"
    assert view["href"] == PREFIX + "/" and view["destination"] == "nav"
    assert mine[0]["fastapi_apps"][0]["url_prefix"] == PREFIX


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?call_id=abc",
        "/reports/summary/MA_DEMO01/2026-05/pdf",
        "/api/accounts",
        "/api/accounts/MA_DEMO01",
        "/api/diagnose/abc",
        "/static/page.css",
        "/static/icon.svg",
    ],
)
def test_every_route_refuses_anonymous_and_unauthorised_users(client, path):
    anonymous = client.get(PREFIX + path)
    assert anonymous.status_code == 401, anonymous.text
    assert "Compliance reports" not in anonymous.text
    forged = client.get(PREFIX + path, headers={"Authorization": "Bearer not-a-jwt"})
    assert forged.status_code in (401, 403)
    no_role = client.get(PREFIX + path, headers={"Authorization": f"Bearer {_token(None)}"})
    assert no_role.status_code == 403
    assert "MA_DEMO01" not in no_role.text


def test_no_unauthenticated_api_docs(client):
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert client.get(PREFIX + path).status_code in (401, 404)


def test_page_shows_retention_and_summaries(viewer, lake):
    r = viewer.get(PREFIX + "/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
    page = r.text
    # Retention at a glance: the latest report (2026-06-01), not the earlier one.
    assert "99.59%" in page and "2026-06-01" in page
    assert "2025-02-10 – 2025-02-11 (2 days)" in page and "2025-08-15" in page
    assert "2 day(s): 2024-06-01 (expires 2026-06-02), 2024-06-02 (expires 2026-06-03, legal hold)" in page
    # Monthly summaries with their figures, and the latest month's days.
    assert "30,480" in page and "14,630" in page and "48.0%" in page
    assert ">warning<" in page and ">failed<" in page
    assert "1: 2026-05-07" in page  # the month's missing day
    assert "2026-05-31" in page and "2026-05-30" in page
    assert "2026-04-30" not in page  # days of other months only on request
    # Links: view inline, downloads with file names, the DAG run in the Airflow UI (top window).
    assert f'href="{PREFIX}/reports/summary/MA_DEMO01/2026-05/html?inline=true"' in page
    assert 'download="trai_summary_MA_DEMO01_2026-05.pdf"' in page
    assert (
        'href="/dags/vobiz_trai_summary/runs/scheduled__2026-06-01T00%3A00%3A00%2B00%3A00" target="_top"'
        in page
    )
    # Both accounts are listed; the other one is one click away.
    assert f'href="{PREFIX}/?account=MA_OTHER2"' in page


def test_page_other_month_and_account(viewer, lake):
    page = viewer.get(PREFIX + "/", params={"account": ACCOUNT, "month": "2026-04"}).text
    assert "2026-04-30" in page and "2026-05-31" not in page
    other = viewer.get(PREFIX + "/", params={"account": OTHER}).text
    assert "Account MA_OTHER2" in other and "100.00%" in other
    missing = viewer.get(PREFIX + "/", params={"account": "MA_NOPE"})
    assert missing.status_code == 404 and "No reports for account" in missing.text


def test_page_escapes_what_it_shows(viewer, lake):
    r = viewer.get(PREFIX + "/", params={"call_id": "<script>alert(1)</script>"})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text
    assert "A call id is" in r.text


@pytest.mark.parametrize("fmt", ["pdf", "html", "csv", "json"])
def test_download_streams_the_exact_bytes_with_a_file_name(viewer, lake, fmt):
    key = lake.layout.summary_report_key(ACCOUNT, "2026-05", fmt)
    # identity: Airflow's GZip middleware would otherwise re-encode the stream (and drop the length).
    r = viewer.get(
        f"{PREFIX}/reports/summary/{ACCOUNT}/2026-05/{fmt}", headers={"Accept-Encoding": "identity"}
    )
    assert r.status_code == 200
    assert hashlib.sha256(r.content).hexdigest() == lake.sha256(key)
    assert r.headers["content-disposition"] == f'attachment; filename="trai_summary_{ACCOUNT}_2026-05.{fmt}"'
    assert r.headers["content-length"] == str(len(lake.objects[key]))
    assert r.headers["x-content-type-options"] == "nosniff"
    if fmt == "pdf":
        assert r.content.startswith(b"%PDF-") and r.headers["content-type"] == "application/pdf"


def test_retention_download_and_inline_html_view(viewer, lake):
    r = viewer.get(f"{PREFIX}/reports/retention/{ACCOUNT}/2026-06-01/pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    assert 'filename="trai_retention_MA_DEMO01_2026-06-01.pdf"' in r.headers["content-disposition"]
    view = viewer.get(f"{PREFIX}/reports/summary/{ACCOUNT}/2026-05/html", params={"inline": "true"})
    assert view.status_code == 200 and view.headers["content-disposition"].startswith("inline;")
    # The report's own markup runs sandboxed: no script from a report file can act as the Airflow user.
    csp = view.headers["content-security-policy"]
    assert "sandbox" in csp and "script-src" not in csp and "default-src 'none'" in csp


def test_a_missing_report_is_a_clear_404(viewer, lake):
    r = viewer.get(f"{PREFIX}/reports/summary/{ACCOUNT}/2026-03/pdf")
    assert r.status_code == 404
    assert r.json()["detail"] == "no PDF summary report for account MA_DEMO01, period 2026-03"
    r = viewer.get(f"{PREFIX}/reports/retention/MA_NOBODY/2026-06-01/csv")
    assert r.status_code == 404 and "MA_NOBODY" in r.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/reports/summary/../../cdr/2026-05/json",
        "/reports/summary/%2E%2E/2026-05/json",
        "/reports/summary/..%2F..%2Fcdr/2026-05/json",
        "/reports/summary/MA_DEMO01/..%2F..%2F..%2Fcdr/json",
        "/reports/summary/MA_DEMO01/2026-05/..%2F..%2Fsummary.json",
        "/reports/summary/MA_DEMO01/2026-05/exe",
        "/reports/summary/MA_DEMO01/2026-13/pdf",
        "/reports/retention/MA_DEMO01/2026-05/pdf",
        "/reports/retention/MA_DEMO01/2026-02-30/pdf",
        "/reports/manifest/MA_DEMO01/2026-05-31/json",
        "/reports/summary/.../2026-05/json",
        "/reports/summary/MA_DEMO01%00/2026-05/json",
        "/reports/summary/s3:%2F%2Fother-bucket%2Fx/2026-05/json",
        "//reports/summary/MA_DEMO01/2026-05/json",
    ],
)
def test_traversal_and_arbitrary_keys_are_refused(viewer, lake, path):
    r = viewer.get(PREFIX + path)
    assert r.status_code in (400, 404, 422), (path, r.status_code)
    assert r.content != b"{}"
    assert r.headers.get("content-disposition") is None


def test_json_api(viewer, lake):
    accounts = viewer.get(PREFIX + "/api/accounts").json()
    assert [a["account_id"] for a in accounts["accounts"]] == [ACCOUNT, OTHER]
    assert accounts["accounts"][0]["retention"]["as_of"] == "2026-06-01"
    detail = viewer.get(PREFIX + f"/api/accounts/{ACCOUNT}").json()
    assert [m["period"] for m in detail["months"]] == ["2026-05", "2026-04"]
    assert detail["months"][0]["calls"] == 30480 and detail["months"][0]["missing_days"] == ["2026-05-07"]
    assert viewer.get(PREFIX + "/api/accounts/MA_NOPE").status_code == 404
    assert viewer.get(PREFIX + "/api/accounts/..").status_code in (400, 404)


def test_no_secret_reaches_the_page(viewer, lake, monkeypatch):
    """The aws connection's keys and the vobiz token never appear in any response."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_VOBIZ_DEFAULT",
        json.dumps(
            {
                "conn_type": "vobiz",
                "host": "http://127.0.0.1:9",
                "login": "MA_DEMO01",
                "password": "tok-SECRET-123456",
            }
        ),
    )
    bodies = [
        viewer.get(PREFIX + "/").text,
        viewer.get(PREFIX + "/", params={"call_id": "0b7c6a1e-0000-4000-8000-000000000001"}).text,
        viewer.get(PREFIX + "/api/accounts").text,
        viewer.get(PREFIX + "/api/diagnose/0b7c6a1e-0000-4000-8000-000000000001").text,
    ]
    for body in bodies:
        assert "tok-SECRET-123456" not in body
        assert "testing" not in body  # the aws connection's access key and secret


def test_lake_unreachable_is_said_plainly(viewer, monkeypatch, s3_lake):
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", "s3://no-such-bucket-here/lake")
    r = viewer.get(PREFIX + "/")
    assert r.status_code == 502 and "The report lake could not be read" in r.text
    # No S3 endpoint answering: the download says so (and names no credential).
    from tests.support.servers import free_port

    dead = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {
            "endpoint_url": f"http://127.0.0.1:{free_port()}",
            "region_name": "us-east-1",
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(dead))
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", s3_lake.uri)
    r = viewer.get(f"{PREFIX}/reports/summary/{ACCOUNT}/2026-05/pdf")
    assert r.status_code == 502, r.text
    assert r.json()["detail"] == "The report lake could not be read: EndpointConnectionError."
    monkeypatch.setenv(f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}", "/not/a/uri")
    r = viewer.get(PREFIX + "/")
    assert r.status_code == 500 and "vobiz_lake_uri" in r.text
