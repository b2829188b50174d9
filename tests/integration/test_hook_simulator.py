"""VobizHook against the simulator over a real loopback socket: every endpoint and filter, each fault class,
the retry budget, the pagination invariant, and the token's absence from logs and exceptions."""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_vobiz.hooks.exceptions import (
    VobizApiError,
    VobizAuthError,
    VobizBadRequestError,
    VobizNotFoundError,
    VobizPaginationError,
    VobizRateLimitError,
    VobizRetryBudgetExceeded,
    VobizServerError,
    VobizTransportError,
)
from airflow_provider_vobiz.hooks.vobiz import VobizHook

pytestmark = pytest.mark.integration

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
TOKEN = "hook-test-token-5f1c9a7e3b"
AUTH_ID = "MA_HOOKTEST"
# Fast retries: the behaviour is the same as in production, only the waits are shorter.
FAST = {
    "backoff_base_seconds": 0.01,
    "backoff_max_seconds": 0.05,
    "timeout": 2.0,
    "retry_budget_seconds": 20.0,
}


@pytest.fixture(scope="module")
def sim():
    """A small dataset (250 calls a day: 3 pages of 100 per day) shared by the read-only tests."""
    from airflow_provider_vobiz.simulator import SimulatorConfig, SimulatorServer

    server = SimulatorServer(
        SimulatorConfig(
            auth_id=AUTH_ID, auth_token=TOKEN, seed=11, start_date=DAY1, days=3, calls_per_day=250
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture
def conn(sim, monkeypatch):
    sim.clear_faults()
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", sim.conn_json())
    yield sim
    sim.clear_faults()


def _hook(**overrides) -> VobizHook:
    return VobizHook(**{**FAST, **overrides})


def _requests_since(sim, n: int, endpoint: str | None = None) -> list:
    return [r for r in sim.requests[n:] if endpoint is None or r[0] == endpoint]


def _page_of(request) -> int:
    return int(request[1].get("page", 1))


# ---------------------------------------------------------------- endpoints and filters


def test_list_one_page(conn):
    with _hook() as hook:
        body = hook.list_cdrs(page=2, per_page=20, start_date=DAY1, end_date=DAY1)
    assert body["success"] is True
    assert body["account_id"] == AUTH_ID
    assert body["pagination"]["page"] == 2 and body["pagination"]["per_page"] == 20
    assert body["count"] == len(body["data"]) == 20
    assert body["pagination"]["total"] == body["summary"]["totalCalls"] > 20


def test_every_filter_is_applied(conn):
    with _hook() as hook:
        sample = hook.list_cdrs(per_page=1, start_date=DAY1, end_date=DAY1)["data"][0]
        records = list(
            hook.iter_records(
                start_date=DAY1,
                end_date="2026-03-01",
                call_direction=sample["call_direction"],
                min_duration=sample["duration"],
                from_number=sample["caller_id_number"],
                to_number=sample["destination_number"],
            )
        )
        assert sample["uuid"] in {r["uuid"] for r in records}
        for r in records:
            assert r["call_direction"] == sample["call_direction"]
            assert r["duration"] >= sample["duration"]
            assert r["caller_id_number"] == sample["caller_id_number"]
            assert r["destination_number"] == sample["destination_number"]
        outbound = hook.query_totals(start_date=DAY1, end_date=DAY1, call_direction="outbound")["total"]
        inbound = hook.query_totals(start_date=DAY1, end_date=DAY1, call_direction="inbound")["total"]
        everything = hook.query_totals(start_date=DAY1, end_date=DAY1)
        assert outbound > 0 and inbound > 0 and outbound + inbound == everything["total"]
        assert (
            hook.query_totals(start_date=DAY1, end_date=DAY1, min_duration=60)["total"] < everything["total"]
        )
        assert (
            everything["account_id"] == AUTH_ID and everything["summary"]["totalCalls"] == everything["total"]
        )


def test_search_echoes_filters(conn):
    with _hook() as hook:
        body = hook.search_cdrs(
            page=1, per_page=50, start_date=DAY1, end_date=DAY2, call_direction="outbound"
        )
    assert body["filters"]["call_direction"] == "outbound"
    assert body["filters"]["start_date"] == "2026-03-01" and body["filters"]["end_date"] == "2026-03-02"
    assert all(r["call_direction"] == "outbound" for r in body["data"])
    assert body["pagination"]["per_page"] == 50


def test_single_cdr_and_not_found(conn):
    with _hook() as hook:
        first = hook.list_cdrs(per_page=1)["data"][0]
        assert hook.get_cdr(first["uuid"]) == first
        with pytest.raises(VobizNotFoundError) as err:
            hook.get_cdr("00000000-0000-4000-8000-000000000000")
    assert err.value.status == 404 and err.value.endpoint == "single"
    assert "HTTP 404" in str(err.value) and "single" in str(err.value)


def test_recent(conn):
    with _hook() as hook:
        recent = hook.recent(limit=7)
        default = hook.recent()
    assert len(recent) == 7 and len(default) == 20
    starts = [r["start_time"] for r in recent]
    assert starts == sorted(starts, reverse=True)


def test_iterate_a_day_matches_the_api_total_and_the_dataset(conn):
    with _hook() as hook:
        records = list(hook.iter_records(start_date=DAY1, end_date=DAY1))
        stats = hook.last_iteration
    assert stats.complete and stats.records == stats.api_total == len(records)
    assert stats.pages == -(-stats.api_total // 100) and stats.duplicates == 0
    assert stats.account_id == AUTH_ID and stats["records"] == len(records)
    assert len({r["uuid"] for r in records}) == len(records)
    # The simulator reads dates as Asia/Kolkata calendar days (its default date_filter_timezone).
    day_start = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Kolkata"))
    expected = {r["uuid"] for r in conn.records(day_start, day_start + timedelta(days=1))}
    assert {r["uuid"] for r in records} == expected


def test_concurrent_paging_is_deterministic_and_does_not_restart(conn):
    before = len(conn.requests)
    with _hook(page_concurrency=1) as hook:
        sequential = [r["uuid"] for r in hook.iter_records(per_page=37, start_date=DAY1, end_date=DAY2)]
    with _hook(page_concurrency=6) as hook:
        pages = list(hook.iter_pages(per_page=37, start_date=DAY1, end_date=DAY2))
    concurrent = [r["uuid"] for p in pages for r in p.records]
    assert concurrent == sequential
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    # Each page requested exactly once per run.
    list_pages = [_page_of(r) for r in _requests_since(conn, before, "list")]
    assert sorted(list_pages) == sorted(list(range(1, len(pages) + 1)) * 2)


def test_export_to_path_and_stream(conn, tmp_path):
    with _hook() as hook:
        total = hook.query_totals(start_date=DAY1, end_date=DAY1)["total"]
        result = hook.export_to(tmp_path / "day.csv", start_date=DAY1, end_date=DAY1)
        buffer = io.BytesIO()
        streamed = hook.export_to(buffer, start_date=DAY1, end_date=DAY1, call_direction="inbound")
        inbound = hook.query_totals(start_date=DAY1, end_date=DAY1, call_direction="inbound")["total"]
    data = (tmp_path / "day.csv").read_bytes()
    assert result.path == str(tmp_path / "day.csv") and result.bytes == len(data)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert result.rows == len(rows) == total
    assert {"uuid", "start_time", "call_direction"} <= set(rows[0])
    assert streamed.path is None and streamed.bytes == len(buffer.getvalue())
    assert streamed.rows == inbound == len(list(csv.DictReader(io.StringIO(buffer.getvalue().decode()))))


# ---------------------------------------------------------------- faults and retries


def test_429_with_retry_after_resumes_at_the_failing_page(conn):
    conn.add_fault(kind="status", status=429, retry_after=1, times=2, endpoint="list", page=2)
    before = len(conn.requests)
    started = time.monotonic()
    with _hook(page_concurrency=1) as hook:
        records = list(hook.iter_records(start_date=DAY1, end_date=DAY1))
    assert time.monotonic() - started >= 2.0  # Retry-After: 1 honoured twice
    assert len(records) == hook.last_iteration.api_total
    pages = [(_page_of(r), r[2]) for r in _requests_since(conn, before, "list")]
    assert pages == [(1, 200), (2, 429), (2, 429), (2, 200), (3, 200)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(conn, status):
    conn.add_fault(kind="status", status=status, times=2, endpoint="list", page=3)
    with _hook(page_concurrency=3) as hook:
        records = list(hook.iter_records(start_date=DAY1, end_date=DAY1))
    assert len(records) == hook.last_iteration.api_total


def test_timeout_is_retried(conn):
    conn.add_fault(kind="slow", delay=1.5, times=1, endpoint="list", page=2)
    before = len(conn.requests)
    with _hook(timeout=0.5, page_concurrency=1) as hook:
        records = list(hook.iter_records(start_date=DAY1, end_date=DAY1))
    assert len(records) == hook.last_iteration.api_total
    # The abandoned slow request still finishes on the server; wait for it so later tests see a quiet log.
    deadline = time.monotonic() + 5
    while (
        sum(_page_of(r) == 2 for r in _requests_since(conn, before, "list")) < 2
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert sum(_page_of(r) == 2 for r in _requests_since(conn, before, "list")) == 2


def test_dropped_connection_is_retried(conn):
    conn.add_fault(kind="drop", times=2, endpoint="list", page=2)
    with _hook() as hook:
        records = list(hook.iter_records(start_date=DAY1, end_date=DAY1))
        assert len(hook.recent(limit=3)) == 3
    assert len(records) == hook.last_iteration.api_total


def test_single_search_recent_are_retried(conn):
    conn.add_fault(kind="status", status=503, times=1, endpoint="search")
    conn.add_fault(kind="status", status=429, retry_after=0, times=1, endpoint="recent")
    conn.add_fault(kind="drop", times=1, endpoint="single")
    with _hook() as hook:
        uuid = hook.search_cdrs(per_page=1)["data"][0]["uuid"]
        assert hook.get_cdr(uuid)["uuid"] == uuid
        assert len(hook.recent(limit=2)) == 2


def test_export_dropped_mid_stream_restarts_and_truncates(conn, tmp_path):
    conn.add_fault(kind="drop", times=1, endpoint="export", after_bytes=5000)
    target = tmp_path / "export.csv"
    with _hook() as hook:
        result = hook.export_to(target, start_date=DAY1, end_date=DAY2)
        total = hook.query_totals(start_date=DAY1, end_date=DAY2)["total"]
    assert result.attempts == 2
    data = target.read_bytes()
    assert result.bytes == len(data) and result.rows == total
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == total and len({r["uuid"] for r in rows}) == total  # no doubled prefix


def test_export_to_a_seekable_stream_is_truncated_on_retry(conn):
    conn.add_fault(kind="drop", times=1, endpoint="export", after_bytes=3000)
    buffer = io.BytesIO(b"PREFIX\n")
    buffer.seek(0, io.SEEK_END)
    with _hook() as hook:
        result = hook.export_to(buffer, start_date=DAY1, end_date=DAY1)
    assert result.attempts == 2
    assert buffer.getvalue().startswith(b"PREFIX\n")
    assert len(buffer.getvalue()) == len(b"PREFIX\n") + result.bytes


def test_retries_run_out_with_typed_errors(conn):
    conn.add_fault(kind="status", status=500, times=100, endpoint="list")
    before = len(conn.requests)
    with _hook(max_retries=2) as hook, pytest.raises(VobizServerError) as err:
        hook.list_cdrs()
    assert [r[2] for r in _requests_since(conn, before, "list")] == [500, 500, 500]
    assert err.value.status == 500 and "after 3 attempt(s)" in str(err.value)
    conn.clear_faults()
    conn.add_fault(kind="status", status=429, retry_after=0, times=100, endpoint="recent")
    with _hook(max_retries=1) as hook, pytest.raises(VobizRateLimitError) as err:
        hook.recent()
    assert err.value.status == 429 and err.value.endpoint == "recent"
    conn.clear_faults()
    conn.add_fault(kind="drop", times=100, endpoint="single")
    with _hook(max_retries=1) as hook, pytest.raises(VobizTransportError) as err:
        hook.get_cdr(conn.records()[0]["uuid"])
    assert err.value.status is None and "single" in str(err.value)


def test_retry_budget_runs_out_clearly(conn):
    conn.add_fault(kind="status", status=503, times=1000, endpoint="list", page=2)
    started = time.monotonic()
    with (
        _hook(
            retry_budget_seconds=0.5, max_retries=1000, backoff_base_seconds=0.05, backoff_max_seconds=0.2
        ) as hook,
        pytest.raises(VobizRetryBudgetExceeded) as err,
    ):
        list(hook.iter_records(start_date=DAY1, end_date=DAY1))
    assert time.monotonic() - started < 5
    text = str(err.value)
    assert "retry budget of 0.5s exhausted" in text and "page 2" in text and "HTTP 503" in text
    assert err.value.status == 503


def test_retry_after_beyond_the_budget_fails_at_once(conn):
    conn.add_fault(kind="status", status=429, retry_after=60, times=1, endpoint="list")
    started = time.monotonic()
    with (
        _hook(retry_budget_seconds=5) as hook,
        pytest.raises(VobizRetryBudgetExceeded, match="next wait would be 60"),
    ):
        hook.list_cdrs()
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------- pagination invariant


def test_a_short_page_trips_the_invariant(conn):
    conn.add_fault(kind="truncate", times=1, endpoint="list", page=2)
    with _hook() as hook, pytest.raises(VobizPaginationError) as err:
        list(hook.iter_records(start_date=DAY1, end_date=DAY1))
    text = str(err.value)
    total = hook.last_iteration.api_total
    assert f"pagination.total was {total}" in text
    assert re.search(r"yielded \d+ distinct records", text) and "difference -" in text
    assert "page 2 expected 100 got" in text
    assert not hook.last_iteration.complete


def _drifting_server(simulator_factory, monkeypatch):
    """One day of 250 calls whose listing repeats a record at a page boundary (pagination drift)."""
    server = simulator_factory(
        auth_id=AUTH_ID,
        auth_token=TOKEN,
        start_date=DAY1,
        days=1,
        calls_per_day=250,
        duplicate_across_pages=True,
    )
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", server.conn_json())
    return server


def test_duplicates_across_pages_are_counted(simulator_factory, monkeypatch):
    _drifting_server(simulator_factory, monkeypatch)
    with _hook() as hook:
        records = list(hook.iter_records(start_date=DAY1, end_date=DAY1))
        stats = hook.last_iteration
    # The drifting listing repeats a record at a page boundary: every distinct record arrives, one twice.
    unique = {r["uuid"] for r in records}
    assert stats.complete and len(unique) == stats.unique_records == stats.api_total == 250
    assert stats.duplicates == 1 == len(records) - len(unique)
    assert stats.duplicate_uuids[0] in unique
    assert stats.pages == 3


def test_a_repeat_plus_a_short_page_is_a_missing_call(simulator_factory, monkeypatch):
    """records == pagination.total, yet one call is missing: the distinct count catches it."""
    server = _drifting_server(simulator_factory, monkeypatch)
    server.add_fault(kind="truncate", records=1, times=1, endpoint="list", page=3)
    with _hook() as hook, pytest.raises(VobizPaginationError) as err:
        list(hook.iter_records(start_date=DAY1, end_date=DAY1))
    stats = hook.last_iteration
    assert stats.records == stats.api_total == 250 and stats.unique_records == 249
    text = str(err.value)
    assert "249 distinct records (250 rows, 1 repeated: " in text
    assert "pagination.total was 250: 1 missing (difference -1)" in text
    assert not stats.complete


# ---------------------------------------------------------------- errors and security


def test_bad_request_names_endpoint_status_and_api_text(simulator_factory, monkeypatch):
    server = simulator_factory(
        auth_id=AUTH_ID, auth_token=TOKEN, start_date=DAY1, days=1, calls_per_day=10, api_retention_days=30
    )
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", server.conn_json())
    with _hook() as hook, pytest.raises(VobizBadRequestError) as err:
        hook.list_cdrs(start_date="2024-01-01", end_date="2024-01-02")
    assert err.value.status == 400 and err.value.endpoint == "list"
    assert err.value.api_message and err.value.api_message in str(err.value)
    assert "HTTP 400" in str(err.value)


def test_wrong_token_is_an_auth_error_and_test_connection_says_so(conn, monkeypatch):
    wrong = "wrong-token-8c2e4d6f0a"
    monkeypatch.setenv(
        "AIRFLOW_CONN_VOBIZ_DEFAULT",
        conn.conn_json().replace(TOKEN, wrong),
    )
    before = len(conn.requests)
    with _hook() as hook:
        with pytest.raises(VobizAuthError) as err:
            hook.list_cdrs()
        ok, message = hook.test_connection()
    assert [r[2] for r in _requests_since(conn, before)] == [401, 401]  # 401 is not retried
    assert err.value.status == 401 and "list" in str(err.value) and "HTTP 401" in str(err.value)
    assert ok is False and "Authentication failed (HTTP 401)" in message and AUTH_ID in message
    for text in (str(err.value), message, repr(err.value)):
        assert wrong not in text


def test_test_connection_ok(conn):
    ok, message = _hook().test_connection()
    assert ok is True and AUTH_ID in message and conn.base_url in message


def test_token_is_absent_from_logs_and_exceptions(conn, caplog, capsys, tmp_path):
    caplog.set_level(logging.DEBUG)
    conn.add_fault(kind="status", status=503, times=1, endpoint="list", page=2)
    conn.add_fault(kind="drop", times=1, endpoint="export", after_bytes=2000)
    conn.add_fault(kind="status", status=429, retry_after=0, times=1, endpoint="recent")
    texts = []
    hook = _hook(progress_interval_seconds=0)
    list(hook.iter_records(start_date=DAY1, end_date=DAY1))
    hook.export_to(tmp_path / "x.csv", start_date=DAY1, end_date=DAY1)
    results = [hook.recent(limit=2), hook.query_totals(), hook.test_connection(), repr(hook)]
    conn.add_fault(kind="status", status=500, times=100, endpoint="list")
    for call in (
        lambda: hook.list_cdrs(),
        lambda: hook.get_cdr("missing-call"),
        lambda: list(hook.iter_records()),
    ):
        with pytest.raises(VobizApiError) as err:
            call()
        texts += [str(err.value), repr(err.value), str(err.value.api_message)]
    hook.close()
    out, err_out = capsys.readouterr()  # Airflow's task logger writes through structlog to the console
    logged = "\n".join([out, err_out, caplog.text, *(r.getMessage() for r in caplog.records)])
    assert "retrying in" in logged  # the retries were logged
    assert "records/s" in logged  # and the progress
    everything = "\n".join([logged, *texts, repr(results)])
    assert TOKEN not in everything


def test_readme_example_runs(conn, monkeypatch, tmp_path):
    """The @task example of docs/hook.md, executed as written against the simulator."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "hook.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    code = code.replace('"/tmp/', f'"{tmp_path}/')
    namespace: dict = {}
    exec(compile(code, "docs/hook.md", "exec"), namespace)
    out = namespace["count_outbound"].function(params={"day": "2026-03-01"})
    with _hook() as hook:
        total = hook.query_totals(start_date=DAY1, end_date=DAY1)["total"]
        outbound = hook.query_totals(start_date=DAY1, end_date=DAY1, call_direction="outbound")["total"]
    assert out["records"] == outbound and out["csv_rows"] == total
    assert 0 < out["answered"] < outbound


def test_airflow_connection_test_button_path(conn, monkeypatch):
    """What the API server's connection test does: the connection as a URI in AIRFLOW_CONN_*, then
    Connection.test_connection(), which finds VobizHook through the provider's connection type."""
    from airflow.models.connection import Connection

    for password, ok_expected in ((TOKEN, True), ("not-the-token-1234", False)):
        candidate = Connection(
            conn_id="vobiz_ui_test", conn_type="vobiz", host=conn.base_url, login=AUTH_ID, password=password
        )
        monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_UI_TEST", candidate.get_uri())
        ok, message = candidate.test_connection()
        assert ok is ok_expected, message
        assert password not in message
        if not ok:
            assert "Authentication failed (HTTP 401)" in message


@pytest.mark.parametrize("api_timezone", ["UTC", "Asia/Kolkata"])
def test_padded_range_holds_a_whole_ist_day_whatever_the_api_timezone(
    simulator_factory, monkeypatch, api_timezone
):
    from airflow_provider_vobiz.cdr.window import DayWindow

    server = simulator_factory(
        auth_id=AUTH_ID,
        auth_token=TOKEN,
        start_date=DAY1,
        days=3,
        calls_per_day=120,
        date_filter_timezone=api_timezone,
    )
    monkeypatch.setenv("AIRFLOW_CONN_VOBIZ_DEFAULT", server.conn_json())
    ist_day = datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Kolkata"))
    truth = {r["uuid"] for r in server.records(ist_day, ist_day + timedelta(days=1))}
    with _hook() as hook:
        exact = {r["uuid"] for r in hook.iter_records(start_date=DAY2, end_date=DAY2)}
        padded = {
            r["uuid"] for r in hook.iter_records(**DayWindow.for_day(DAY2, "Asia/Kolkata").query_filters())
        }
    assert truth and truth <= padded
    # Read as UTC, the exact day misses the IST day's first 5.5 hours: why the transfer pads.
    assert (truth <= exact) is (api_timezone == "Asia/Kolkata")


def test_a_failing_page_stops_the_other_workers(conn):
    conn.add_fault(kind="status", status=400, times=1, endpoint="list", page=2)
    conn.add_fault(kind="status", status=503, times=1000, endpoint="list", page=3)
    started = time.monotonic()
    with (
        _hook(
            page_concurrency=4, backoff_base_seconds=0.5, backoff_max_seconds=1, retry_budget_seconds=60
        ) as hook,
        pytest.raises(VobizBadRequestError, match=r"page 2\): HTTP 400"),
    ):
        list(hook.iter_records(start_date=DAY1, end_date=DAY2))
    # Page 2's error surfaces without waiting for page 3's retries, and page 3 stops retrying.
    assert time.monotonic() - started < 5
    time.sleep(1.5)
    settled = sum(_page_of(r) == 3 for r in conn.requests)
    time.sleep(1.5)
    assert sum(_page_of(r) == 3 for r in conn.requests) == settled


_DB_SCRIPT = """
import json, sys
from airflow.utils import db
from airflow.models.connection import Connection
from airflow.utils.session import create_session
from airflow_provider_vobiz.hooks.vobiz import VobizHook

db.initdb()
with create_session() as session:
    session.add(Connection(conn_id="vobiz_from_db", conn_type="vobiz", host=sys.argv[1], login=sys.argv[2],
                           password=sys.argv[3], extra=json.dumps({"page_concurrency": "3", "timeout": "5"})))
hook = VobizHook("vobiz_from_db")
print(json.dumps({"total": hook.query_totals()["total"], "test": hook.test_connection(),
                  "concurrency": hook.page_concurrency}))
"""


def test_connection_from_the_metadata_database(conn, tmp_path):
    """A connection stored in the metadata database, read as the API server does (MetastoreBackend), in a
    fresh process with its own AIRFLOW_HOME so the test session's Airflow state is untouched."""
    import json
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")},
        "AIRFLOW_HOME": str(tmp_path),
        "_AIRFLOW_PROCESS_CONTEXT": "server",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    out = subprocess.run(
        [sys.executable, "-c", _DB_SCRIPT, conn.base_url, AUTH_ID, TOKEN],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["total"] == 750 and result["concurrency"] == 3
    assert result["test"][0] is True
    assert TOKEN not in out.stdout


def test_request_log_keeps_only_the_last_digits_of_numbers(conn, caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    with _hook() as hook:
        number = hook.list_cdrs(per_page=1)["data"][0]["caller_id_number"]
        hook.list_cdrs(per_page=5, from_number=number)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("from_number=" in line for line in lines)
    assert not any(number in line or number.lstrip("+") in line for line in lines)
