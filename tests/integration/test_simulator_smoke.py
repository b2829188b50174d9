"""The simulator answers every documented endpoint over a real socket."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_every_endpoint_answers(vobiz_simulator):
    srv = vobiz_simulator
    with httpx.Client(headers=srv.headers, timeout=10) as c:
        body = c.get(srv.api_url, params={"start_date": "2026-03-01", "end_date": "2026-03-02"}).json()
        assert body["success"] is True and body["count"] == 20 and body["pagination"]["total"] == 600
        search = c.get(srv.api_url + "/search", params={"call_direction": "outbound"}).json()
        assert search["filters"] == {"call_direction": "outbound"}
        recent = c.get(srv.api_url + "/recent").json()
        assert set(recent) == {"account_id", "count", "data", "success"} and recent["count"] == 20
        one = c.get(f"{srv.api_url}/{recent['data'][0]['uuid']}").json()
        assert one["data"] == recent["data"][0]
        r = c.get(srv.api_url + "/export", params={"start_date": "2026-03-01", "end_date": "2026-03-01"})
        assert r.headers["content-type"].startswith("text/csv")
        assert len(r.text.splitlines()) == 301
