"""Notifications from the real DAGs (dag.test) to a real SMTP server and a local Slack webhook endpoint."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage

from .test_summary_report import ACCOUNT, CLIS, CUSTOMERS, KEY, ORDINARY, SECOND, _day_records, _write_day

pytestmark = pytest.mark.integration

MONTHLY_RUN = dict(
    logical_date=dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.timezone.utc), run_conf={"account_id": ACCOUNT}
)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def _no_full_number(text: str) -> None:
    for number in [*CLIS, *CUSTOMERS]:
        assert number not in text and number.lstrip("+") not in text


@pytest.fixture
def summary_lake(s3_lake, monkeypatch):
    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    _write_day(storage, layout, ORDINARY, _day_records(ORDINARY, 60, 0.5, 7), "passed")
    monkeypatch.setenv(
        "AIRFLOW_CONN_VOBIZ_REPORT_HMAC", json.dumps({"conn_type": "generic", "password": KEY.decode()})
    )
    monkeypatch.setenv("AIRFLOW_VAR_VOBIZ_LAKE_URI", s3_lake.uri)
    return storage, layout


def test_monthly_report_is_mailed_once_and_its_replacement_says_why(dagbag, summary_lake, notify_env, caplog):
    storage, layout = summary_lake
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
    assert f"day(s) now present: {SECOND.isoformat()}" in _text(replacement.body())
