"""Faults on demand: statuses with Retry-After, slow answers, connections dropped mid-body."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def client(vobiz_simulator):
    with httpx.Client(base_url=vobiz_simulator.api_url, headers=vobiz_simulator.headers, timeout=30) as c:
        yield c


def test_429_with_retry_after_then_recovers(client, vobiz_simulator):
    vobiz_simulator.add_fault(kind="status", status=429, retry_after=1, times=2, endpoint="list")
    for _ in range(2):
        r = client.get("")
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert r.json()["success"] is False
    assert client.get("/search").status_code == 200  # another endpoint is untouched
    assert client.get("").status_code == 200
    assert [s for _, _, s in vobiz_simulator.requests] == [429, 429, 200, 200]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(client, vobiz_simulator, status):
    vobiz_simulator.add_fault(kind="status", status=status, times=1, endpoint="*")
    r = client.get("/recent")
    assert r.status_code == status and "Retry-After" not in r.headers
    assert client.get("/recent").status_code == 200


def test_fault_on_one_page_only(client, vobiz_simulator):
    vobiz_simulator.add_fault(kind="status", status=503, times=1, endpoint="list", page=3)
    assert client.get("", params={"page": 1}).status_code == 200
    assert client.get("", params={"page": 3}).status_code == 503
    assert client.get("", params={"page": 3}).status_code == 200


def test_slow_response(client, vobiz_simulator):
    vobiz_simulator.add_fault(kind="slow", delay=0.6, times=1, endpoint="*")
    t = time.perf_counter()
    assert client.get("").status_code == 200
    assert time.perf_counter() - t >= 0.6
    with pytest.raises(httpx.ReadTimeout):
        vobiz_simulator.add_fault(kind="slow", delay=1.0, times=1)
        client.get("", timeout=0.2)


def test_connection_dropped_mid_json_body(client, vobiz_simulator):
    vobiz_simulator.add_fault(kind="drop", after_bytes=500, times=1, endpoint="list")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("")
    assert client.get("").status_code == 200


def test_connection_dropped_mid_csv_export(client, vobiz_simulator):
    vobiz_simulator.add_fault(kind="drop", after_bytes=5000, times=1, endpoint="export")
    got = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), client.stream("GET", "/export") as r:
        assert r.status_code == 200
        for chunk in r.iter_raw():
            got += chunk
    assert 0 < len(got) <= 5000 and got.startswith(b"id,uuid,")
    full = client.get("/export")
    assert full.status_code == 200 and full.content.startswith(bytes(got))
    assert len(full.text.splitlines()) == 1 + 1500


def test_faults_and_clock_over_the_control_api(vobiz_simulator):
    srv = vobiz_simulator
    with httpx.Client(base_url=srv.base_url, timeout=30) as c:
        r = c.post("/_sim/faults", json={"kind": "status", "status": 429, "retry_after": 2, "times": 1})
        assert r.status_code == 201 and r.json()["faults"][0]["status"] == 429
        assert c.get("/_sim/faults").json()[0]["kind"] == "status"
        hit = c.get(srv.api_url + "/recent", headers=srv.headers)
        assert hit.status_code == 429 and hit.headers["Retry-After"] == "2"
        c.post("/_sim/faults", json=[{"kind": "status", "status": 500, "times": None}])
        assert c.get(srv.api_url, headers=srv.headers).status_code == 500
        assert c.delete("/_sim/faults").status_code == 204
        assert c.get(srv.api_url, headers=srv.headers).status_code == 200
        assert c.post("/_sim/faults", json={"kind": "explode"}).status_code == 400
        # The clock: nothing exists before the first day ends... then everything.
        assert c.post("/_sim/now", json={"now": "2026-02-28T00:00:00Z"}).status_code == 200
        assert c.get(srv.api_url, headers=srv.headers).json()["pagination"]["total"] == 0
        assert c.post("/_sim/now", json={"now": None}).json()["now"].startswith("2026-03-06T18:30")
        assert c.get(srv.api_url, headers=srv.headers).json()["pagination"]["total"] == 1500
        assert c.post("/_sim/now", json={"now": "yesterday"}).status_code == 400
        log = c.get("/_sim/requests").json()
        assert log[0] == {"endpoint": "recent", "query": {}, "status": 429}
        assert [e["status"] for e in log] == [429, 500, 200, 200, 200]


def test_truncated_page_keeps_its_pagination(client, vobiz_simulator):
    vobiz_simulator.add_fault(kind="truncate", records=3, times=1, endpoint="list", page=2)
    full = client.get("", params={"page": 2}).json()
    again = client.get("", params={"page": 2}).json()
    assert full["count"] == 17 and again["count"] == 20
    assert full["pagination"] == again["pagination"] and full["data"] == again["data"][:17]
