"""The simulator started from the command line, queried with curl exactly as the documentation does."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from airflow_provider_vobiz.simulator import SimulatorConfig
from airflow_provider_vobiz.simulator.__main__ import build_parser, parse_fault
from tests.support.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")]
REPO = Path(__file__).resolve().parents[2]
TOKEN = "cli-test-token-42"


def start(*extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "airflow_provider_vobiz.simulator", "--host", "127.0.0.1", "--port", str(port),
           "--auth-id", "MA_DEMO0001", "--auth-token", TOKEN, "--seed", "7", "--start-date", "2026-03-01",
           "--days", "31", "--calls-per-day", "2000", *extra]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/_sim/health", timeout=1)
            return proc, base
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"simulator did not start: {proc.communicate()[0]}") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def cli_sim() -> Iterator[str]:
    proc, base = start("--fault", "503:times=1:endpoint=recent")
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def curl(*args: str) -> tuple[int, str, str]:
    """Run curl; return (status, content type, body)."""
    out = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code} %{content_type}", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body, _, tail = out.rpartition("\n")
    status, _, ctype = tail.partition(" ")
    return int(status), ctype, body


HEADERS = ["--header", "X-Auth-ID: MA_DEMO0001", "--header", f"X-Auth-Token: {TOKEN}"]
JSON = ["--header", "Accept: application/json"]


def test_documented_examples_with_curl(cli_sim, tmp_path):
    api = f"{cli_sim}/api/v1/Account/MA_DEMO0001/cdr"
    # The fault given on the command line hits the first recent request.
    status, _, body = curl("-X", "GET", f"{api}/recent?limit=50", *HEADERS)
    assert status == 503 and json.loads(body)["success"] is False

    # List CDRs / Filter by date range.
    status, ctype, body = curl(
        "-X", "GET", f"{api}?start_date=2026-03-01&end_date=2026-03-17", *HEADERS, *JSON
    )
    listed = json.loads(body)
    assert status == 200 and ctype == "application/json"
    assert list(listed) == ["account_id", "count", "data", "pagination", "summary", "success"]
    assert listed["pagination"]["total"] == 17 * 2000 and listed["count"] == 20
    assert 45 <= listed["summary"]["answerRate"] <= 51

    # Outbound calls only, minimum 10 seconds.
    q = "call_direction=outbound&min_duration=10&page=1&per_page=20"
    body = json.loads(curl("-X", "GET", f"{api}?{q}", *HEADERS)[2])
    assert body["count"] == 20 and all(
        r["call_direction"] == "outbound" and r["duration"] >= 10 for r in body["data"]
    )

    # Search CDRs.
    q = "call_direction=outbound&page=1&per_page=50"
    body = json.loads(curl("-X", "GET", f"{api}/search?{q}", *HEADERS, *JSON)[2])
    assert body["filters"] == {"call_direction": "outbound"} and body["count"] == 50

    # Last 50 recent calls.
    body = json.loads(curl("-X", "GET", f"{api}/recent?limit=50", *HEADERS, *JSON)[2])
    assert list(body) == ["account_id", "count", "data", "success"] and body["count"] == 50

    # Get single CDR.
    call_id = body["data"][0]["uuid"]
    status, _, one = curl("--location", f"{api}/{call_id}", *HEADERS, *JSON)
    assert status == 200 and json.loads(one)["data"] == body["data"][0]

    # Export filtered CDRs to CSV (no Accept: application/json).
    out = tmp_path / "cdrs.csv"
    status, ctype, _ = curl("-X", "GET", f"{api}/export?start_date=2026-03-01&end_date=2026-03-17", *HEADERS,
                            "-o", str(out))  # fmt: skip
    assert status == 200 and ctype.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == listed["pagination"]["total"]
    assert sum(int(r["billsec"]) > 0 for r in rows) == listed["summary"]["answeredCalls"]

    # Wrong token; account in the path that is not X-Auth-ID.
    assert (
        curl(f"{api}/recent", "--header", "X-Auth-ID: MA_DEMO0001", "--header", "X-Auth-Token: x")[0] == 401
    )
    assert curl(api.replace("MA_DEMO0001", "MA_OTHER"), *HEADERS)[0] == 403


def test_control_api_with_curl(cli_sim):
    api = f"{cli_sim}/api/v1/Account/MA_DEMO0001/cdr"
    status, _, _ = curl(
        "-X", "POST", f"{cli_sim}/_sim/faults", "--json", '{"kind":"status","status":429,"retry_after":3}'
    )
    assert status == 201
    out = subprocess.run(
        ["curl", "-sS", "-i", f"{api}?page=2", *HEADERS], capture_output=True, text=True
    ).stdout
    assert " 429" in out.splitlines()[0] and "retry-after: 3" in out.lower()
    assert curl("-X", "DELETE", f"{cli_sim}/_sim/faults")[0] == 204
    status, _, body = curl(f"{cli_sim}/_sim/requests")
    assert status == 200 and {"endpoint": "list", "query": {"page": "2"}, "status": 429} in json.loads(body)


def test_help_documents_every_option():
    text = build_parser().format_help()
    for f in dataclasses.fields(SimulatorConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "late_delay":
            flag = "--late-delay-hours"
        assert flag in text, flag
    for flag in ("--host", "--port", "--fault", "429:times=2:retry_after=1"):
        assert flag in text


def test_fault_specs():
    assert parse_fault("429:times=2:retry_after=1") == {
        "kind": "status",
        "status": 429,
        "times": 2,
        "retry_after": 1.0,
    }
    assert parse_fault("drop:endpoint=export:after_bytes=5000") == {"kind": "drop", "endpoint": "export",
                                                                     "after_bytes": 5000}  # fmt: skip
    assert parse_fault("slow:delay=2:times=inf")["times"] is None
    assert parse_fault("truncate:records=2:page=3") == {"kind": "truncate", "records": 2, "page": 3}
    for bad in ("teapot", "429:times", "slow:when=now", "drop:endpoint=nowhere"):
        with pytest.raises(Exception, match=r"."):
            parse_fault(bad)
