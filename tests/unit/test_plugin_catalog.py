"""The page's plain logic: which keys a request may read, file names, masking, the plugin's registration."""

from __future__ import annotations

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.plugins.catalog import (
    InvalidReportRequest,
    ReportCatalog,
    _hive_value,
    check_account,
    check_period,
    download_name,
)
from airflow_provider_vobiz.plugins.diagnosis import DiagnosisError, check_call_id, mask_text, mask_value


class _NoStorage:
    """Resolving a key must not touch S3."""

    bucket = "lake-bucket"

    def __getattr__(self, name):
        raise AssertionError(f"S3 was asked ({name}) while only resolving a key")


@pytest.fixture
def catalog() -> ReportCatalog:
    return ReportCatalog(_NoStorage(), LakeLayout.from_uri("s3://lake-bucket/prod/lake"))


def test_report_keys_come_from_the_layout(catalog):
    assert catalog.report_key("summary", "MA_1", "2026-05", "pdf") == (
        "prod/lake/reports/trai_summary/account_id=MA_1/period=2026-05/summary.pdf"
    )
    assert catalog.report_key("summary", "MA_1", "2026-05-31", "csv").endswith(
        "period=2026-05-31/summary.csv"
    )
    assert catalog.report_key("retention", "MA_1", "2026-06-01", "json") == (
        "prod/lake/reports/trai_retention/account_id=MA_1/as_of=2026-06-01/retention.json"
    )


@pytest.mark.parametrize(
    ("kind", "account", "period", "fmt"),
    [
        ("summary", "..", "2026-05", "pdf"),
        ("summary", ".", "2026-05", "pdf"),
        ("summary", "../cdr", "2026-05", "pdf"),
        ("summary", "MA_1/../../x", "2026-05", "pdf"),
        ("summary", "", "2026-05", "pdf"),
        ("summary", "a" * 65, "2026-05", "pdf"),
        ("summary", "MA 1", "2026-05", "pdf"),
        ("summary", "MA_1\x00", "2026-05", "pdf"),
        ("summary", "MA_1", "2026-5", "pdf"),
        ("summary", "MA_1", "2026-13", "pdf"),
        ("summary", "MA_1", "2026-02-30", "pdf"),
        ("summary", "MA_1", "../2026-05", "pdf"),
        ("summary", "MA_1", "2026-05", "exe"),
        ("summary", "MA_1", "2026-05", "../summary.pdf"),
        ("retention", "MA_1", "2026-05", "pdf"),
        ("manifest", "MA_1", "2026-05-01", "json"),
        ("../cdr", "MA_1", "2026-05-01", "json"),
    ],
)
def test_anything_but_a_report_is_refused(catalog, kind, account, period, fmt):
    with pytest.raises(InvalidReportRequest):
        catalog.report_key(kind, account, period, fmt)


def test_storage_and_layout_must_agree():
    with pytest.raises(ValueError, match="same bucket"):
        ReportCatalog(_NoStorage(), LakeLayout.from_uri("s3://other-bucket/lake"))


def test_validators_and_names():
    assert check_account("MA_ZRTEMCF7") == "MA_ZRTEMCF7"
    assert check_period("retention", "2024-02-29") == "2024-02-29"
    with pytest.raises(InvalidReportRequest, match="YYYY-MM-DD"):
        check_period("retention", "2025-02-29")
    assert download_name("summary", "MA_1", "2026-05", "pdf") == "trai_summary_MA_1_2026-05.pdf"
    assert download_name("retention", "MA_1", "2026-06-01", "csv") == "trai_retention_MA_1_2026-06-01.csv"
    assert _hive_value("p/reports/trai_summary/account_id=MA_1/", "account_id") == "MA_1"
    assert _hive_value("p/reports/trai_summary/account_id=/", "account_id") is None
    assert _hive_value("p/reports/trai_summary/other=MA_1/", "account_id") is None


def test_numbers_are_masked_to_their_last_four_digits():
    cdr = {
        "caller_id_number": "+918065480214",
        "destination_number": "+919876543210",
        "caller_id_name": "919148227303",
        "hangup_cause": "USER_BUSY",
        "duration": 6,
        "mos": 4.5,
    }
    masked = mask_value(cdr)
    assert masked["caller_id_number"] == "••••0214"
    assert masked["destination_number"] == "••••3210"
    assert masked["caller_id_name"] == "••••7303"
    assert masked["hangup_cause"] == "USER_BUSY" and masked["duration"] == 6 and masked["mos"] == 4.5
    # Free text from a diagnosis or an API message: every number-like run is masked.
    text = mask_text("Callee +91 98765 43210 was busy; retry after 30 s (code 486)")
    assert "98765" not in text and "••••3210" in text and "30 s" in text and "486" in text
    assert mask_value({"advice": ["call +919876543210 back"]}) == {"advice": ["call ••••3210 back"]}
    # What is not a phone number stays readable.
    for keep in (
        "2026-05-11T06:59:26Z",
        "bcd1c45d-3f27-41ea-bea1-aa5d4e06dca4",
        "15ad2006-1986-451b-87da-43676cfd8266",
        "3.110.99.6",
        "DND/NCPR preferences (1909)",
        "10:00–21:00 IST",
        "hangup_cause_code 4000",
    ):
        assert mask_text(keep) == keep


@pytest.mark.parametrize("bad", ["", " ", "../x", "a/b", "x" * 65, "<script>", "id with space"])
def test_call_ids_are_checked_before_any_request(bad):
    with pytest.raises(DiagnosisError, match="A call id is"):
        check_call_id(bad)


def test_call_id_accepts_uuids():
    assert check_call_id(" bcd1c45d-3f27-41ea-bea1-aa5d4e06dca4 ") == "bcd1c45d-3f27-41ea-bea1-aa5d4e06dca4"


def test_plugin_registration_is_light_and_complete():
    """Tasks load plugins too: importing the plugin must not build the routes (the api-server's security)."""
    from airflow_provider_vobiz.plugins.compliance import URL_PREFIX, VobizCompliancePlugin, app

    assert VobizCompliancePlugin.name == "vobiz_compliance_reports"
    (entry,) = VobizCompliancePlugin.fastapi_apps
    assert entry["app"] is app and entry["url_prefix"] == URL_PREFIX
    (view,) = VobizCompliancePlugin.external_views
    assert view["name"] == "Compliance reports" and view["destination"] == "nav"
    assert view["url_route"] == "compliance-reports" and view["href"] == URL_PREFIX + "/"
    assert app.docs_url is None and app.openapi_url is None


def test_importing_the_plugin_leaves_the_api_server_machinery_alone():
    """A fresh interpreter (other tests may have built the routes already in this one)."""
    import subprocess
    import sys

    code = (
        "import sys; import airflow_provider_vobiz.plugins.compliance as c; "
        "from fastapi.routing import APIRoute; "
        "assert 'airflow.api_fastapi.core_api.security' not in sys.modules, 'security imported'; "
        "assert not [r for r in c.app.routes if isinstance(r, APIRoute)], 'routes built at import'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_page_url():
    from airflow_provider_vobiz.plugins.compliance import page_url

    assert page_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/plugin/compliance-reports"
    assert page_url("http://h:1", embedded=False) == "http://h:1/compliance-reports/"


def test_entry_point_points_at_the_plugin():
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="airflow.plugins") if e.name == "vobiz_compliance_reports"]
    assert ep.value == "airflow_provider_vobiz.plugins.compliance:VobizCompliancePlugin"
