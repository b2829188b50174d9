"""Reports as a system of record, end to end through the DAGs (``dag.test()``).

A Vobiz-compatible server (the simulator) serves hostile records: thousands of characters, markup, formulas,
control characters and phone numbers in every free-text field. The ingest, summary, monthly and retention
DAGs run on an Object Lock bucket; a day goes under legal hold; then a late CDR for the month's last day
restates it after the month's report exists. Checked: all four formats of the reports, the lineage of the
regenerated reports, and ``python -m airflow_provider_vobiz.verify`` before and after the restatement.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import uuid
from zoneinfo import ZoneInfo

import pypdf
import pytest

from airflow_provider_vobiz import config
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.retention import set_legal_hold
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.plugins.catalog import ReportCatalog
from airflow_provider_vobiz.reports.summary import report_status
from airflow_provider_vobiz.simulator.data import HOSTILE_VALUES
from airflow_provider_vobiz.verify import main as verify_main

pytestmark = pytest.mark.integration

IST = ZoneInfo("Asia/Kolkata")
HMAC_KEY = "system-of-record-hmac-key-0123"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), IST)


def _run(dag, **kwargs):
    run = dag.test(**kwargs)
    assert run.state == "success", f"{dag.dag_id} {kwargs}"
    return run


def _verify(capsys, target: str) -> tuple[int, str]:
    capsys.readouterr()
    code = verify_main([target])
    return code, capsys.readouterr().out


def _counts_are_integers(obj, path="") -> None:
    """Every count in a summary document is an integer, never null."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in (
                "calls",
                "answered",
                "outbound_calls",
                "inbound_calls",
                "unanswered",
                "row_count",
                "rejects",
            ):
                assert isinstance(v, int) and not isinstance(v, bool), f"{path}.{k} = {v!r}"
            _counts_are_integers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _counts_are_integers(v, f"{path}[{i}]")


@pytest.fixture
def stack(dagbag, simulator_factory, s3_server, monkeypatch):
    today = dt.datetime.now(IST).date()
    last = today.replace(day=1) - dt.timedelta(days=1)  # the last day of the month before
    first = last - dt.timedelta(days=1)
    sim = simulator_factory(
        start_date=first,
        days=2,
        calls_per_day=150,
        hostile_records=30,
        late_fraction=0.1,
        late_delay=dt.timedelta(hours=20),
    )
    bucket = f"record-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    layout = LakeLayout.from_uri(f"s3://{bucket}/lake")
    for name, value in {
        "AIRFLOW_CONN_AWS_DEFAULT": s3_server.conn_json(),
        "AIRFLOW_CONN_VOBIZ_DEFAULT": sim.conn_json(),
        "AIRFLOW_CONN_VOBIZ_REPORT_HMAC": json.dumps({"conn_type": "generic", "password": HMAC_KEY}),
        f"AIRFLOW_VAR_{config.VAR_LAKE_URI.upper()}": layout.uri,
        f"AIRFLOW_VAR_{config.VAR_REPULL_DAYS.upper()}": "1",
    }.items():
        monkeypatch.setenv(name, value)
    dags = {d: dagbag.dags[d] for d in dagbag.dags}
    for dag in dags.values():
        for task in dag.tasks:
            task.retries = 0
    return sim, layout, LakeStorage("aws_default", bucket), dags, first, last, today


def _ingest(dags, sim, day: dt.date) -> None:
    """The ingest run of ``day``, two hours after it ends (its late CDRs are not all in the API yet)."""
    sim.set_now((_midnight(day + dt.timedelta(days=1)) + dt.timedelta(hours=2)).astimezone(dt.timezone.utc))
    _run(dags[config.INGEST_DAG_ID], logical_date=_midnight(day + dt.timedelta(days=1)))


def _daily(dags, account: str, day: dt.date) -> None:
    """What the partition event of ``day`` triggers (a manual run with the same (account, day))."""
    _run(dags[config.SUMMARY_DAG_ID], run_conf={"account_id": account, "call_date": day.isoformat()})


def test_hostile_records_a_restated_last_day_and_an_auditor(stack, capsys):
    sim, layout, storage, dags, first, last, today = stack
    account, month = sim.config.auth_id, last.strftime("%Y-%m")
    _ingest(dags, sim, first)
    _ingest(dags, sim, last)
    _daily(dags, account, last)
    _run(
        dags[f"{config.SUMMARY_DAG_ID}_monthly"],
        logical_date=_midnight(last + dt.timedelta(days=1)) + dt.timedelta(hours=6),
        run_conf={"account_id": account, "month": month},
    )
    as_of = last + dt.timedelta(days=1)
    _run(
        dags[config.RETENTION_DAG_ID],
        run_conf={"account_id": account, "as_of": as_of.isoformat(), "object_lock_mode": "governance"},
    )
    set_legal_hold(storage, layout, account, first, True, reason="court order 42")

    month_key = layout.summary_report_key(account, month, "json")
    retention_uri = layout.s3_uri(layout.retention_report_key(account, as_of, "json"))
    v1 = json.loads(storage.get_bytes(month_key))
    assert v1["version"] == 1 and v1["supersedes"] == []
    assert v1["status"] == report_status(month, today, 1)
    # Quality verdicts, Object Lock and the legal hold changed nothing a report cites.
    cited = len(v1["inputs"])  # the two days, and the empty day before them that the first re-pull published
    assert cited == 3
    for target in (layout.s3_uri(month_key), retention_uri):
        code, out = _verify(capsys, target)
        assert code == 0, out
        assert out.count("  match  ") == cited and f"{cited} of {cited} input(s) match" in out

    # A late CDR for the month's last day: the next day's ingest re-pulls it and restates it.
    before = storage.get_json(layout.manifest_key(account, last))
    before_sha = hashlib.sha256(storage.get_bytes(layout.manifest_key(account, last))).hexdigest()
    _ingest(dags, sim, last + dt.timedelta(days=1))
    after = storage.get_json(layout.manifest_key(account, last))
    assert after["row_count"] > before["row_count"] and len(after["history"]) == len(before["history"]) + 1
    _daily(dags, account, last)  # its event regenerates the day and the month that already has a report

    v2 = json.loads(storage.get_bytes(month_key))
    assert v2["version"] == 2 and v2["status"] == report_status(month, today, 1)
    (old,) = v2["supersedes"]
    assert old["version"] == 1 and f"{last.isoformat()} restated" in old["reason"]
    archived_key = old["path"].split(f"s3://{layout.bucket}/", 1)[1]
    assert hashlib.sha256(storage.get_bytes(archived_key)).hexdigest() == old["sha256"]
    assert json.loads(storage.get_bytes(archived_key))["generated_at"] == v1["generated_at"]
    assert v2["totals"]["calls"] == v1["totals"]["calls"] + after["row_count"] - before["row_count"]
    day = json.loads(storage.get_bytes(layout.summary_report_key(account, last.isoformat(), "json")))
    assert day["version"] == 2 and f"{last.isoformat()} restated" in day["supersedes"][0]["reason"]

    # The auditor: the old month report's input for the last day was restated since; the new one matches.
    code, out = _verify(capsys, old["path"])
    assert code == 1
    assert f"{first.isoformat()}  match" in out and f"{last.isoformat()}  restated since" in out
    assert after["history"][-1]["old_content_sha256"] in out  # the history entry is printed
    # ... and the version the old report cites is still in the lake, under its own hash.
    assert f"the cited version is kept at {layout.manifest_archive_key(account, last, before_sha)}" in out
    code, out = _verify(capsys, layout.s3_uri(month_key))
    assert code == 0 and f"{cited} of {cited} input(s) match" in out
    code, out = _verify(capsys, retention_uri)
    assert code == 1 and f"{last.isoformat()}  restated since" in out
    retention = json.loads(storage.get_bytes(layout.retention_report_key(account, as_of, "json")))
    assert all(isinstance(d["rows"], int) and isinstance(d["bytes"], int) for d in retention["days"])

    # The page shows the newest version and its status.
    row = ReportCatalog(storage, layout).summary_row(account, month)
    assert (row.version, row.superseded, row.status) == (2, 1, v2["status"])

    _check_formats(storage, layout, account, month, v2)


def _check_formats(storage, layout, account: str, month: str, doc: dict) -> None:
    """Every value rendered, none breaking a format or leaking a number."""
    _counts_are_integers(doc)
    assert all(isinstance(h["answered"], int) for h in doc["hours"])
    long_cause = HOSTILE_VALUES["hangup_cause"]
    assert long_cause in doc["hangups"]["by_cause"]["period"]  # the whole value stays in JSON
    assert long_cause in [t["cause"] for t in doc["hangups"]["top_causes"]]
    files = {
        ext: storage.get_bytes(layout.summary_report_key(account, month, ext))
        for ext in ("csv", "html", "pdf")
    }
    text_json = json.dumps(doc)
    for raw in ("919876543210", "98765 43210", "0806548"):
        assert raw not in text_json
        assert raw not in files["csv"].decode()
    assert "TRK" in text_json  # the trunk id is there, its number a token

    rows = list(csv.reader(io.StringIO(files["csv"].decode())))
    assert rows[0] == ["section", "call_date", "direction", "key", "metric", "value"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or NUMBER.fullmatch(cell), cell[:60]
    assert any(long_cause in cell for row in rows for cell in row)  # whole in CSV
    assert ["report", month, "all", "", "status", doc["status"]] in rows

    html = files["html"].decode()
    assert "<script>" not in html and "<img src=x" not in html and "\x1b" not in html and "\x07" not in html
    assert "[cut: " in html and long_cause not in html
    assert "TRK••••3210" in html and "919876543210" not in html
    assert re.search(rf"<td>{doc['status'].upper()}( \(final from [0-9-]+\))?, version 2</td>", html)

    pages = pypdf.PdfReader(io.BytesIO(files["pdf"])).pages
    first_page = pages[0].extract_text()
    assert doc["status"].upper() in first_page and "supersedes version 1" in first_page
    text = "".join(p.extract_text() for p in pages)
    assert "[cut:" in text and "••••3210" in text and "919876543210" not in text.replace(" ", "")
