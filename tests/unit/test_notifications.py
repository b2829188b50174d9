"""Notification messages and settings, without servers."""

from __future__ import annotations

import pytest

from airflow_provider_vobiz.notifications import messages
from airflow_provider_vobiz.notifications.settings import (
    VAR_ALERT_RECIPIENTS,
    VAR_MAX_ATTACHMENT_MB,
    VAR_REPORT_RECIPIENTS,
    VAR_SMTP_CONN_ID,
    NotifySettings,
    parse_recipients,
)

DOC = {
    "account_id": "MA_1",
    "period": "2026-10",
    "status": "provisional",
    "generated_at": "2026-11-01T06:00:00Z",
    "dag_run": {"run_id": "a"},
    "totals": {
        "calls": 1234,
        "answered": 600,
        "asr": 0.486223,
        "ner": 0.5,
        "mou": 10.5,
        "total_cost": "12.5",
    },
    "days_present": 2,
    "days_expected": 31,
    "missing_days": [],
    "quality": {"worst_status": "warning"},
    "inputs": [
        {"call_date": "2026-10-01", "content_sha256": "aa"},
        {"call_date": "2026-10-02", "content_sha256": "bb"},
    ],
}


def test_scrub_masks_phone_numbers_but_not_dates_hashes_or_figures():
    text = "caller +919876543210 and 919812345678 on 2026-10-01, sha 1234567890abcdef1234567890abcdef, 1,234,567 calls"
    out = messages.scrub(text)
    assert "+919876543210" not in out and "919812345678" not in out
    assert "••••3210" in out and "••••5678" in out
    assert "2026-10-01" in out and "1234567890abcdef1234567890abcdef" in out and "1,234,567" in out


def test_scrub_hides_registered_secrets():
    from airflow.sdk.log import mask_secret

    mask_secret("s3cr3t-token-value")
    assert "s3cr3t-token-value" not in messages.scrub("failed with s3cr3t-token-value")


def test_fingerprint_ignores_run_specific_fields_and_changes_with_the_content():
    same = {**DOC, "generated_at": "later", "dag_run": {"run_id": "b"}, "supersedes": {"sha256": "x"}}
    assert messages.report_fingerprint(same) == messages.report_fingerprint(DOC)
    restated = {**DOC, "inputs": [{"call_date": "2026-10-01", "content_sha256": "cc"}]}
    assert messages.report_fingerprint(restated) != messages.report_fingerprint(DOC)


def test_report_notice_reads_status_and_the_supersession_the_report_states():
    doc = {
        **DOC,
        "supersedes": {"path": "s3://b/old.json", "sha256": "ab12", "why": "late CDRs on 2026-10-02"},
    }
    notice = messages.report_notice(
        "summary", doc, pdf=b"%PDF", max_attachment_bytes=10, report_link="http://x/r", run_link=None
    )
    assert (
        notice.subject
        == "[Vobiz] TRAI summary report, MA_1, period 2026-10 (provisional): replaces an earlier version"
    )
    html = notice.html()
    assert "Why: late CDRs on 2026-10-02" in html and "s3://b/old.json" in html
    assert ("Calls", "1,234") in notice.facts and ("ASR", "48.62%") in notice.facts
    assert notice.attachment is not None and notice.attachment.data == b"%PDF"


def test_a_large_pdf_is_linked_not_attached_and_why_comes_from_the_last_delivery():
    previous = {"status": "provisional", "inputs": {"2026-10-01": "aa", "2026-10-02": "00"}}
    doc = {**DOC, "status": "final"}
    notice = messages.report_notice(
        "summary",
        doc,
        pdf=b"x" * 11,
        max_attachment_bytes=10,
        report_link="http://x/r",
        run_link=None,
        previous=previous,
    )
    assert notice.attachment is None and "larger than the 10-byte attachment limit" in notice.intro
    assert "status provisional → final; restated day(s): 2026-10-02" in notice.html()


def test_retention_alert_only_when_something_is_wrong():
    ok = {"account_id": "MA_1", "as_of": "2026-12-01", "totals": {"gaps": [], "checksum_mismatch_days": []}}
    assert messages.retention_alert(ok, report_link="r", run_link=None) is None
    expiring = {
        **ok,
        "totals": {
            "gaps": [],
            "expiring_within_30_days": [
                {"call_date": "2024-12-05", "expires_on": "2026-12-05", "legal_hold": False}
            ],
        },
        "days": [{"call_date": "2024-12-05", "retain_until": None}],
    }
    alert = messages.retention_alert(expiring, report_link="r", run_link=None)
    assert alert is not None and "2024-12-05 expires on 2026-12-05" in alert.html()


def test_settings_are_off_by_default_and_bad_values_are_reported():
    assert not NotifySettings.from_mapping({}).enabled
    s = NotifySettings.from_mapping(
        {
            VAR_SMTP_CONN_ID: "smtp",
            VAR_REPORT_RECIPIENTS: "a@x.in; b@x.in, a@x.in",
            VAR_ALERT_RECIPIENTS: "nobody",
            VAR_MAX_ATTACHMENT_MB: "lots",
        }
    )
    assert s.email_to("report") == ("a@x.in", "b@x.in") and s.email_to("alert") == ()
    assert any("'nobody' is not an e-mail address" in p for p in s.problems)
    assert any("'lots' is not a number" in p for p in s.problems)
    with pytest.raises(ValueError, match="not an e-mail address"):
        parse_recipients("x@", "r")


def test_marker_keys_live_under_the_account_and_topic():
    from airflow_provider_vobiz.lake.paths import LakeLayout

    layout = LakeLayout.from_uri("s3://b/lake")
    digest = messages.digest("x")
    assert layout.notification_marker_key("MA_1", "trai_summary/period=2026-10", digest) == (
        f"lake/notifications/account_id=MA_1/trai_summary/period=2026-10/{digest}.json"
    )
    with pytest.raises(ValueError, match="topic"):
        layout.notification_prefix("MA_1", "../cdr")
    with pytest.raises(ValueError, match="digest"):
        layout.notification_marker_key("MA_1", "alerts", "not-hex")
