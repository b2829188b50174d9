"""Notifications from the real DAGs (dag.test) to a real SMTP server and a local Slack webhook endpoint."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import socket

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage

from .test_summary_dag import lake_with_day  # noqa: F401 (a fixture)
from .test_summary_report import ACCOUNT, CLIS, CUSTOMERS, KEY, SECOND, _day_records, _write_day

pytestmark = pytest.mark.integration

MONTHLY_RUN = dict(
    logical_date=dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.timezone.utc), run_conf={"account_id": ACCOUNT}
)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def _no_full_number(text: str) -> None:
    for number in [*CLIS, *CUSTOMERS]:
        assert number not in text and number.lstrip("+") not in text


def test_monthly_report_is_mailed_once_and_its_replacement_says_why(
    dagbag,
    lake_with_day,  # noqa: F811 (the imported fixture)
    notify_env,
    caplog,
):
    storage, layout = lake_with_day
    mail, slack = notify_env
    dag = dagbag.dags["vobiz_trai_summary_monthly"]
    assert dag.test(**MONTHLY_RUN).state == "success"

    (msg,) = mail.received
    assert msg.rcpt_tos == ["officer@example.test", "cfo@example.test"]
    assert msg.mail_from == "vobiz-reports@example.test"
    assert ACCOUNT in msg.subject and "2026-10" in msg.subject
    doc = json.loads(storage.get_bytes(layout.summary_report_key(ACCOUNT, "2026-10", "json")))
    body = _text(msg.body())
    t = doc["totals"]
    for label, value in [
        ("Calls", f"{t['calls']:,}"),
        ("Answered", f"{t['answered']:,}"),
        ("ASR", f"{t['asr'] * 100:.2f}%"),
        ("NER", f"{t['ner'] * 100:.2f}%"),
        ("Minutes of use", f"{t['mou']:,.2f}"),
        ("Days present", f"{doc['days_present']} of {doc['days_expected']}"),
        ("Data quality (worst day)", doc["quality"]["worst_status"]),
    ]:
        assert f"{label} {value}" in body, (label, value, body)
    ((name, pdf),) = msg.attachments().items()
    assert name == f"trai_summary_{ACCOUNT}_2026-10.pdf"
    assert pdf == storage.get_bytes(layout.summary_report_key(ACCOUNT, "2026-10", "pdf"))
    assert "http://airflow.example.test/compliance-reports/reports/summary/" in msg.body()
    _no_full_number(msg.body())
    assert [p["json"]["text"].splitlines()[0] for p in slack.posts] == [f"*{msg.subject}*"]

    # The same report again (a retried or re-run task): nothing new is sent.
    caplog.set_level(logging.INFO)
    assert dag.test(**MONTHLY_RUN).state == "success"
    assert len(mail.received) == 1 and len(slack.posts) == 1

    # A day arrives late: the new version is mailed, saying which version it replaces and why.
    _write_day(storage, layout, SECOND, _day_records(SECOND, 30, 0.5, 8), "passed")
    assert dag.test(**MONTHLY_RUN).state == "success"
    assert len(mail.received) == 2
    replacement = mail.received[1]
    assert "replaces an earlier version" in replacement.subject
    # The report's own account of what changed (its ``supersedes`` entry).
    assert f"Why: {SECOND.isoformat()} published since" in _text(replacement.body())


RETENTION_RUN = dict(
    logical_date=dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    run_conf={"account_id": "MA_RETAIN1"},
)


@pytest.fixture
def retention_lake(s3_lake, monkeypatch):
    from .test_retention import seed_partition

    layout = LakeLayout.from_uri(s3_lake.uri)
    for day in (dt.date(2026, 11, 24), dt.date(2026, 11, 26)):
        seed_partition(s3_lake.client(), layout, "MA_RETAIN1", day)
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_LAKE_URI", s3_lake.uri)
    return LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), layout


def test_retention_gap_alert_and_the_report_of_the_first(dagbag, retention_lake, notify_env):
    storage, layout = retention_lake
    mail, slack = notify_env
    assert dagbag.dags["vobiz_trai_retention"].test(**RETENTION_RUN).state == "success"

    by_subject = {m.subject: m for m in mail.received}
    assert len(by_subject) == 2
    (alert,) = [m for s, m in by_subject.items() if s.startswith("[Vobiz] Retention alert")]
    (report,) = [m for s, m in by_subject.items() if s.startswith("[Vobiz] TRAI retention report")]
    doc = storage.get_json(layout.retention_report_key("MA_RETAIN1", "2026-12-01", "json"))
    t = doc["totals"]
    assert alert.rcpt_tos == ["oncall@example.test"] and "gaps" in alert.subject
    alert_body = _text(alert.body())
    assert f"{len(t['missing_days'])} missing day(s) in {len(t['gaps'])} gap(s)" in alert_body
    assert "2026-11-27 to 2026-11-30 (4 day(s))" in alert_body  # the newest gap, as the report states it
    assert "2026-11-25 to 2026-11-25 (1 day(s))" in alert_body
    assert report.rcpt_tos == ["officer@example.test", "cfo@example.test"]
    report_body = _text(report.body())
    assert f"Verified days {t['verified_days']} of {t['expected_days']:,}" in report_body
    assert f"Coverage {t['coverage'] * 100:.2f}%" in report_body
    (pdf,) = report.attachments().values()
    assert pdf == storage.get_bytes(layout.retention_report_key("MA_RETAIN1", "2026-12-01", "pdf"))
    assert len(slack.posts) == 2


def test_nothing_sent_unless_configured_and_a_refusing_server_leaves_the_run_green(
    dagbag, retention_lake, mail_sink, monkeypatch, caplog
):
    from tests.fixtures.mail import smtp_conn_json
    from tests.support.servers import free_port

    dag = dagbag.dags["vobiz_trai_retention"]
    caplog.set_level(logging.INFO)
    assert dag.test(**RETENTION_RUN).state == "success"
    assert mail_sink.received == []
    assert "Notifications are off" in caplog.text

    # Configured, but the mail server refuses connections: a warning, and the run stays green.
    caplog.clear()
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_SMTP", smtp_conn_json(free_port()))
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_NOTIFY_SMTP_CONN_ID", "vobiz_smtp")
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_NOTIFY_ALERT_RECIPIENTS", "oncall@example.test")
    assert dag.test(**RETENTION_RUN).state == "success"
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "was not sent" in r.getMessage()
    ]
    assert warnings and "ConnectionRefusedError" in warnings[0].getMessage()
    assert mail_sink.received == []

    # A server that accepts connections and never answers: the send is abandoned at its deadline.
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        caplog.clear()
        monkeypatch.setattr("airflow_provider_vobiz.notifications.delivery.SEND_DEADLINE_SECONDS", 2.0)
        monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_SMTP", smtp_conn_json(silent.getsockname()[1]))
        assert dag.test(**RETENTION_RUN).state == "success"
        warnings = [
            r for r in caplog.records if r.levelno == logging.WARNING and "was not sent" in r.getMessage()
        ]
        assert warnings and "did not finish within 2 s" in warnings[0].getMessage()
    finally:
        silent.close()


# -- the ingest DAG: a critical quality failure, the warnings digest, restated reported days ----------------
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def _ingest_run(dag, day: dt.date):
    return dag.test(logical_date=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), IST))


@pytest.fixture
def ingest(dagbag, s3_lake, monkeypatch):
    from airflow_provider_vobiz import config

    dag = dagbag.dags[config.INGEST_DAG_ID]
    for task in dag.tasks:
        monkeypatch.setattr(task, "retries", 0)
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_LAKE_URI", s3_lake.uri)
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_REPULL_DAYS", "0")
    return dag


def test_critical_quality_failure_alerts_with_the_failed_checks(
    ingest, vobiz_conn, s3_lake, notify_env, tmp_path, monkeypatch
):
    from tests.conftest import REPO

    mail, _ = notify_env
    # A crafted critical check the simulator's calls fail: no call may last more than a minute.
    suite = json.loads((REPO / "expectations" / "vobiz_cdr.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "duration", "max_value": 60},
            "meta": {"check": "duration_at_most_a_minute", "family": "durations"},
            "severity": "critical",
            "description": "crafted for the test",
        }
    )
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps(suite))
    monkeypatch.setattr(ingest.get_task("ingest_day.quality"), "suite_path", str(strict))

    day = dt.date(2026, 3, 2)
    assert _ingest_run(ingest, day).state == "failed"

    (alert,) = [m for m in mail.received if "Quality failed" in m.subject]
    assert alert.rcpt_tos == ["oncall@example.test"]
    assert vobiz_conn.config.auth_id in alert.subject and day.isoformat() in alert.subject
    layout = LakeLayout.from_uri(s3_lake.uri)
    validation = LakeStorage("aws_default", s3_lake.bucket).get_json(
        layout.validation_key(vobiz_conn.config.auth_id, day)
    )
    (check,) = [c for c in validation["meta"]["vobiz"]["checks"] if c["name"] == "duration_at_most_a_minute"]
    assert f"duration_at_most_a_minute: {check['unexpected_count']:,} unexpected" in _text(alert.body())
    assert "validation.html" in alert.body() and "/dags/vobiz_cdr_ingest/runs/" in alert.body()
    _no_full_number(alert.body())
    assert "demo-token-0001" not in alert.body()


def test_warnings_digest_and_restated_reported_day(
    ingest, simulator_factory, s3_lake, notify_env, monkeypatch, dagbag
):
    mail, _ = notify_env
    sim = simulator_factory(
        malformed_records=1, late_fraction=0.1, late_delay=dt.timedelta(hours=20), days=3, calls_per_day=200
    )
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", sim.conn_json())
    monkeypatch.setenv(
        "AIRFLOW_CONN_VOBIZ_REPORT_HMAC", json.dumps({"conn_type": "generic", "password": KEY.decode()})
    )
    day1, day2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    account = sim.config.auth_id

    sim.set_now(dt.datetime.combine(day2, dt.time(2), IST).astimezone(dt.timezone.utc))
    assert _ingest_run(ingest, day1).state == "success"
    (digest,) = mail.received
    assert digest.subject.startswith(f"[Vobiz] Quality warnings, {account}: 1 day(s) (2026-03-01)")
    assert "no_records_quarantined" in digest.body()

    # Day 1 is reported, then its late CDRs arrive and the next run's re-pull restates it.
    summary = dagbag.dags["vobiz_trai_summary"]
    assert summary.test(run_conf={"account_id": account, "call_date": day1.isoformat()}).state == "success"
    before = len(mail.received)
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_REPULL_DAYS", "1")
    sim.set_now(dt.datetime.combine(day2 + dt.timedelta(days=1), dt.time(2), IST).astimezone(dt.timezone.utc))
    assert _ingest_run(ingest, day2).state == "success"
    new = mail.received[before:]
    (restated,) = [m for m in new if "Restated after reporting" in m.subject]
    body = _text(restated.body())
    assert "2026-03-01" in restated.subject
    assert "period=2026-03-01/summary.json" in body
    (warnings,) = [m for m in new if "Quality warnings" in m.subject]
    assert "2026-03-02" in warnings.subject


def test_failed_extract_alerts_with_endpoint_status_and_day_never_the_token(
    ingest, vobiz_simulator, notify_env, monkeypatch
):
    mail, slack = notify_env
    wrong = json.loads(vobiz_simulator.conn_json()) | {"password": "wrong-token-123456"}
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", json.dumps(wrong))
    assert _ingest_run(ingest, dt.date(2026, 3, 2)).state == "failed"

    (alert,) = mail.received
    assert alert.subject == "[Vobiz] Task failed, vobiz_cdr_ingest.ingest_day.extract[0], 2026-03-02"
    body = _text(alert.body())
    assert "HTTP status 401" in body and "Day 2026-03-02" in body
    assert "API endpoint list" in body  # the export path asks the list endpoint for the total first
    assert "/dags/vobiz_cdr_ingest/runs/" in alert.body() and "call_date=2026-03-02" not in alert.body()
    for text in (alert.body(), *(p["json"]["text"] for p in slack.posts)):
        assert "wrong-token-123456" not in text and "demo-token-0001" not in text
