"""The simulator against the API documentation, field by field, over real HTTP."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

pytestmark = pytest.mark.integration

# The documentation's "CDR object - every field" table, copied independently of the simulator's own list:
# (name, JSON type, nullable). "timestamp" is an ISO 8601 string.
DOC_FIELDS = [
    ("id", "integer", False), ("uuid", "string", False), ("account_id", "string", False),
    ("call_direction", "string", False), ("caller_id_name", "string", False),
    ("caller_id_number", "string", False), ("destination_number", "string", False),
    ("duration", "integer", False), ("billsec", "integer", False), ("ring_time", "integer", False),
    ("answer_time", "timestamp", True), ("start_time", "timestamp", False), ("end_time", "timestamp", False),
    ("progress_time", "timestamp", False), ("created_at", "timestamp", False),
    ("updated_at", "timestamp", False), ("cost", "number", False), ("total_cost", "number", False),
    ("streaming_cost", "number", False), ("currency", "string", False), ("hangup_cause", "string", False),
    ("hangup_cause_code", "integer", False), ("hangup_cause_name", "string", False),
    ("hangup_disposition", "string", False), ("hangup_source", "string", False),
    ("failure_code", "string", True), ("failure_reason", "string", True), ("bridge_uuid", "string", True),
    ("sip_call_id", "string", False), ("sip_user_agent", "string", False), ("codec", "string", True),
    ("mos", "number", False), ("jitter", "number", False), ("packet_loss", "number", False),
    ("network_addr", "string", False), ("carrier_ip", "string", True), ("context", "string", False),
    ("region", "string", False), ("origination_region", "string", False), ("campaign_id", "string", True),
    ("customer_endpoint", "string", True), ("trunk_id", "string", True), ("terminated_to", "string", True),
]  # fmt: skip
DOC_NAMES = [f[0] for f in DOC_FIELDS]
IST = ZoneInfo("Asia/Kolkata")


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def check_record(rec: dict) -> None:
    assert list(rec) == DOC_NAMES
    for name, kind, nullable in DOC_FIELDS:
        v = rec[name]
        if v is None:
            assert nullable, f"{name} is null but documented as not nullable"
            continue
        if kind == "integer":
            assert isinstance(v, int) and not isinstance(v, bool), name
        elif kind == "number":
            assert isinstance(v, (int, float)) and not isinstance(v, bool), name
        elif kind == "timestamp":
            assert isinstance(v, str) and v.endswith("Z") and ts(v).tzinfo is not None, name
        else:
            assert isinstance(v, str), name


@pytest.fixture
def client(vobiz_simulator):
    with httpx.Client(base_url=vobiz_simulator.api_url, headers=vobiz_simulator.headers, timeout=30) as c:
        yield c


def all_pages(client: httpx.Client, path: str = "", **params) -> tuple[list[dict], list[dict]]:
    """Every record of a listing (following has_next), and each page's pagination."""
    records, paginations, page = [], [], 1
    while True:
        body = client.get(
            path, params={**params, "page": page, "per_page": params.get("per_page", 100)}
        ).json()
        records += body["data"]
        paginations.append(body["pagination"])
        if not body["pagination"]["has_next"]:
            return records, paginations
        page += 1


def test_list_shape_field_by_field(client, vobiz_simulator):
    r = client.get("", params={"start_date": "2026-03-01", "end_date": "2026-03-17"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["account_id", "count", "data", "pagination", "summary", "success"]
    assert (
        body["account_id"] == "MA_DEMO0001"
        and body["success"] is True
        and body["count"] == len(body["data"]) == 20
    )
    assert body["pagination"] == {"page": 1, "per_page": 20, "total": 1500, "pages": 75, "has_next": True,
                                  "has_prev": False}  # fmt: skip
    assert list(body["summary"]) == ["totalCalls", "answeredCalls", "answerRate", "avgCallDuration",
                                     "total_duration_seconds", "total_billable_seconds", "total_cost",
                                     "last_call_at"]  # fmt: skip
    for rec in body["data"]:
        check_record(rec)
        assert rec["account_id"] == "MA_DEMO0001"
    # Newest first: the first record is the call summary.last_call_at names.
    starts = [(ts(x["start_time"]), x["id"]) for x in body["data"]]
    assert starts == sorted(starts, reverse=True)
    assert body["data"][0]["start_time"] == body["summary"]["last_call_at"]
    # Every documented nullable field is null somewhere and set somewhere in the data set.
    recs = vobiz_simulator.records()
    for name, _, nullable in DOC_FIELDS:
        values = [x[name] for x in recs]
        assert any(v is not None for v in values), name
        assert any(v is None for v in values) == nullable, name
    for rec in recs[:300]:
        check_record(rec)


def test_pagination_walks_every_record_once(client):
    params = {"start_date": "2026-03-02", "end_date": "2026-03-03", "per_page": 37}
    recs, pags = all_pages(client, **params)
    total = pags[0]["total"]
    assert total == 600 and len(recs) == total and len({r["uuid"] for r in recs}) == total
    assert [p["page"] for p in pags] == list(range(1, math.ceil(total / 37) + 1))
    assert all(p["pages"] == len(pags) and p["total"] == total for p in pags)
    assert pags[0]["has_prev"] is False and all(p["has_prev"] for p in pags[1:])
    beyond = client.get("", params={**params, "page": len(pags) + 1}).json()
    assert beyond["data"] == [] and beyond["count"] == 0
    assert beyond["pagination"] == {"page": len(pags) + 1, "per_page": 37, "total": 600, "pages": len(pags),
                                    "has_next": False, "has_prev": True}  # fmt: skip
    assert client.get("", params={**params, "per_page": 100}).json()["count"] == 100


def parse_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def recompute(rows: list[dict]) -> dict:
    """The summary, recomputed from exported CSV rows as the documentation defines each figure."""
    answered = [r for r in rows if int(r["billsec"]) > 0]
    bill = sum(int(r["billsec"]) for r in rows)
    return {
        "totalCalls": len(rows),
        "answeredCalls": len(answered),
        "answerRate": round(100 * len(answered) / len(rows), 1) if rows else 0.0,
        "avgCallDuration": f"{round(bill / len(answered)) if answered else 0}s",
        "total_duration_seconds": sum(int(r["duration"]) for r in rows),
        "total_billable_seconds": bill,
        "total_cost": round(sum(float(r["total_cost"]) for r in rows), 2),
        "last_call_at": max((r["start_time"] for r in rows), default=None),
    }


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-03-01", "end_date": "2026-03-17"},
        {"call_direction": "outbound", "min_duration": "10"},
        {"start_date": "2026-03-03", "end_date": "2026-03-03", "call_direction": "inbound"},
        {},
    ],
)
def test_summary_matches_a_recomputation_from_the_export(client, params):
    listed = client.get("", params=params).json()
    r = client.get("/export", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = parse_csv(r.text)
    assert listed["pagination"]["total"] == len(rows)
    assert listed["summary"] == recompute(rows)
    assert 40 <= listed["summary"]["answerRate"] <= 56 or params.get("call_direction")


def test_export_columns_nulls_order_and_records(client, vobiz_simulator):
    params = {"start_date": "2026-03-02", "end_date": "2026-03-02"}
    r = client.get("/export", params=params)
    assert r.headers.get("transfer-encoding") == "chunked"  # streamed
    lines = r.text.splitlines()
    assert lines[0].split(",") == DOC_NAMES
    rows = parse_csv(r.text)
    truth = vobiz_simulator.records(datetime(2026, 3, 1, 18, 30, tzinfo=timezone.utc),
                                    datetime(2026, 3, 2, 18, 30, tzinfo=timezone.utc))  # fmt: skip
    assert [row["uuid"] for row in rows] == [t["uuid"] for t in truth]  # ascending start_time, then id
    for row, t in zip(rows, truth, strict=True):
        for name in DOC_NAMES:
            v = t[name]
            assert row[name] == ("" if v is None else str(v)) or float(row[name]) == float(v), name


def test_search_echoes_filters(client):
    body = client.get("/search", params={"call_direction": "outbound", "page": 1, "per_page": 50}).json()
    assert list(body) == ["account_id", "count", "data", "pagination", "summary", "filters", "success"]
    assert body["filters"] == {"call_direction": "outbound"} and body["count"] == 50
    assert all(r["call_direction"] == "outbound" for r in body["data"])
    number = body["data"][0]["destination_number"]
    full = {"from_number": "+918065480214", "to_number": number, "start_date": "2026-03-01",
            "end_date": "2026-03-05", "call_direction": "outbound", "min_duration": "10"}  # fmt: skip
    echo = client.get("/search", params=full).json()["filters"]
    assert echo == {**full, "min_duration": 10}
    assert client.get("/search").json()["filters"] == {}


def test_filters(client, vobiz_simulator):
    recs = vobiz_simulator.records()
    caller = max(
        {r["caller_id_number"] for r in recs}, key=lambda n: sum(r["caller_id_number"] == n for r in recs)
    )
    got, _ = all_pages(client, from_number=caller)
    assert {r["uuid"] for r in got} == {r["uuid"] for r in recs if r["caller_id_number"] == caller}
    callee = recs[7]["destination_number"]
    got, _ = all_pages(client, to_number=callee)
    assert {r["uuid"] for r in got} == {r["uuid"] for r in recs if r["destination_number"] == callee}
    # An unencoded '+' arrives as a space; it still means the same number.
    raw = client.get(f"?to_number={callee}&per_page=100").json()
    assert raw["pagination"]["total"] == len(got)
    got, _ = all_pages(client, call_direction="inbound", min_duration=30)
    expect = {r["uuid"] for r in recs if r["call_direction"] == "inbound" and r["duration"] >= 30}
    assert {r["uuid"] for r in got} == expect and expect


@pytest.mark.parametrize("tz", ["Asia/Kolkata", "UTC"])
def test_date_range_is_inclusive_calendar_days_in_the_configured_timezone(simulator_factory, tz):
    srv = simulator_factory(date_filter_timezone=tz, days=3, calls_per_day=200)
    with httpx.Client(base_url=srv.api_url, headers=srv.headers) as c:
        got, pags = all_pages(c, start_date="2026-03-02", end_date="2026-03-02")
    zone = ZoneInfo(tz)
    lo = datetime(2026, 3, 2, tzinfo=zone)
    hi = lo + timedelta(days=1)
    expect = [r for r in srv.records() if lo <= ts(r["start_time"]) < hi]
    assert {r["uuid"] for r in got} == {r["uuid"] for r in expect} and len(expect) == pags[0]["total"]
    assert any(ts(r["start_time"]) - lo < timedelta(seconds=5) for r in got)  # calls right at midnight
    assert any(hi - ts(r["start_time"]) <= timedelta(seconds=5) for r in got)


def test_recent(client, vobiz_simulator):
    body = client.get("/recent").json()
    assert list(body) == ["account_id", "count", "data", "success"] and body["count"] == 20
    fifty = client.get("/recent", params={"limit": 50}).json()["data"]
    newest = sorted(vobiz_simulator.records(), key=lambda r: (r["start_time"], r["id"]), reverse=True)[:50]
    assert [r["uuid"] for r in fifty] == [r["uuid"] for r in newest]
    for rec in fifty:
        check_record(rec)


def test_single_cdr(client, vobiz_simulator):
    rec = vobiz_simulator.records()[123]
    body = client.get(f"/{rec['uuid']}").json()
    assert body == {"account_id": "MA_DEMO0001", "data": rec, "success": True}
    assert client.get(f"/{rec['id']}").json()["data"] == rec
    r = client.get("/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.json()["success"] is False and "not found" in r.json()["message"]


@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        ("", {"start_date": "2026-03-01"}, "end_date is required"),
        ("", {"end_date": "2026-03-01"}, "start_date is required"),
        ("/export", {"start_date": "2026-03-01"}, "end_date is required"),
        ("", {"start_date": "01-03-2026", "end_date": "2026-03-02"}, "YYYY-MM-DD"),
        ("", {"start_date": "2026-02-30", "end_date": "2026-03-02"}, "YYYY-MM-DD"),
        ("", {"start_date": "2026-03-05", "end_date": "2026-03-02"}, "must not be after"),
        ("/search", {"call_direction": "sideways"}, "call_direction"),
        ("", {"min_duration": "-1"}, "min_duration"),
        ("", {"min_duration": "ten"}, "min_duration"),
        ("", {"page": "0"}, "page"),
        ("", {"per_page": "101"}, "per_page must be between 1 and 100"),
        ("", {"per_page": "0"}, "per_page"),
        ("/recent", {"limit": "0"}, "limit"),
        ("/recent", {"limit": "lots"}, "limit"),
        ("", {"from_number": "not-a-number"}, "from_number"),
        ("/export", {"to_number": "12"}, "to_number"),
    ],
)
def test_bad_parameters_are_400_with_a_message(client, path, params, fragment):
    r = client.get(path, params=params)
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["success"] is False and fragment in body["message"]


@pytest.mark.parametrize("path", ["", "/search", "/recent", "/export", "/abc"])
def test_auth(vobiz_simulator, path):
    srv = vobiz_simulator
    url = srv.api_url + path
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"X-Auth-ID": "MA_DEMO0001"}).status_code == 401
    wrong = httpx.get(url, headers={"X-Auth-ID": "MA_DEMO0001", "X-Auth-Token": "nope"})
    assert wrong.status_code == 401 and "X-Auth-Token" in wrong.json()["message"] and "nope" not in wrong.text
    other = httpx.get(url.replace("MA_DEMO0001", "MA_OTHER999"), headers=srv.headers)
    assert other.status_code == 403 and other.json()["success"] is False


def test_api_retention(simulator_factory):
    srv = simulator_factory(api_retention_days=3, now=datetime(2026, 3, 6, 12, tzinfo=timezone.utc))
    with httpx.Client(base_url=srv.api_url, headers=srv.headers) as c:
        r = c.get("", params={"start_date": "2026-03-01", "end_date": "2026-03-05"})
        assert r.status_code == 400 and "retention of 3 days" in r.json()["message"]
        assert "2026-03-03" in r.json()["message"]
        assert c.get("", params={"start_date": "2026-03-03", "end_date": "2026-03-05"}).status_code == 200


def test_same_options_give_byte_identical_responses(simulator_factory):
    a = simulator_factory(updated_fraction=0.1, extra_field="recording_url")
    b = simulator_factory(updated_fraction=0.1, extra_field="recording_url")
    requests = [("", {"start_date": "2026-03-01", "end_date": "2026-03-03", "page": 3}), ("/search", {"per_page": 100}),
                ("/recent", {"limit": 40}), ("/export", {})]  # fmt: skip
    for path, params in requests:
        ra = httpx.get(a.api_url + path, params=params, headers=a.headers)
        rb = httpx.get(b.api_url + path, params=params, headers=b.headers)
        assert ra.status_code == 200 and ra.content == rb.content


def test_duplicate_across_pages(simulator_factory):
    srv = simulator_factory(duplicate_across_pages=True, days=1, calls_per_day=250)
    with httpx.Client(base_url=srv.api_url, headers=srv.headers) as c:
        recs, pags = all_pages(c, per_page=100)
    assert pags[0]["total"] == 250 and len(recs) == 251
    uuids = [r["uuid"] for r in recs]
    assert uuids[99] == uuids[100] and len(set(uuids)) == 250


def test_extra_field_and_malformed_records_over_http(simulator_factory):
    srv = simulator_factory(extra_field="recording_url", malformed_records=2, days=2, calls_per_day=100)
    with httpx.Client(base_url=srv.api_url, headers=srv.headers) as c:
        recs, _ = all_pages(c)
        rows = parse_csv(c.get("/export").text)
    assert all("recording_url" in r for r in recs) and "recording_url" in rows[0]
    assert (
        sum(r.get("duration") == "abc" for r in recs) == 2 and sum("hangup_cause" not in r for r in recs) == 2
    )
    assert sum(r["duration"] == "abc" for r in rows) == 2 and sum(r["hangup_cause"] == "" for r in rows) == 2


def test_late_cdrs_appear_when_the_clock_passes_the_delay(simulator_factory):
    srv = simulator_factory(late_fraction=0.3, late_delay=timedelta(hours=6), days=2, calls_per_day=300)
    params = {"start_date": "2026-03-02", "end_date": "2026-03-02"}
    day_end = datetime(2026, 3, 2, 18, 30, tzinfo=timezone.utc)
    with httpx.Client(base_url=srv.api_url, headers=srv.headers) as c:
        srv.set_now(day_end + timedelta(hours=1))
        early = c.get("", params=params).json()["pagination"]["total"]
        srv.set_now(day_end + timedelta(hours=7))
        later = c.get("", params=params).json()["pagination"]["total"]
    assert early < later == 300


def test_updated_records_change_when_the_clock_passes_updated_at(simulator_factory):
    srv = simulator_factory(updated_fraction=0.5, days=1, calls_per_day=200)
    day_end = datetime(2026, 3, 1, 18, 30, tzinfo=timezone.utc)
    final = {r["uuid"]: r for r in srv.records()}
    srv.set_now(day_end + timedelta(minutes=1))
    with httpx.Client(base_url=srv.api_url, headers=srv.headers) as c:
        before = {r["uuid"]: r for r in all_pages(c)[0]}
    changed = [u for u in before if before[u] != final[u]]
    assert changed
    for u in changed:
        assert ts(final[u]["updated_at"]) > ts(before[u]["updated_at"]) > day_end - timedelta(days=1)
        assert (final[u]["billsec"], final[u]["total_cost"], final[u]["hangup_cause"]) != (
            before[u]["billsec"], before[u]["total_cost"], before[u]["hangup_cause"])  # fmt: skip
