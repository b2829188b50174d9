"""The simulator's synthetic data: determinism, realism, knobs (no server: the Dataset directly)."""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from airflow_provider_vobiz.simulator import SimulatorConfig
from airflow_provider_vobiz.simulator.app import SimState, _page_positions
from airflow_provider_vobiz.simulator.data import Dataset, Filters
from airflow_provider_vobiz.simulator.fields import FIELD_NAMES, HANGUP_CAUSES

E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
DOCUMENTED_CAUSES = {
    "NORMAL_CLEARING", "USER_BUSY", "NO_ANSWER", "ORIGINATOR_CANCEL", "CALL_REJECTED", "REJECTED",
    "INVALID_NUMBER", "UNALLOCATED_NUMBER", "SERVICE_UNAVAILABLE", "SERVER_ERROR", "MEDIA_TIMEOUT",
    "PROTOCOL_ERROR", "NETWORK_OUT_OF_ORDER", "DESTINATION_OUT_OF_ORDER", "NORMAL_TEMPORARY_FAILURE",
    "SWITCH_CONGESTION", "UNKNOWN",
}  # fmt: skip


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def big() -> list[dict]:
    """Four days of 5,000 calls: enough for the distributions to show."""
    st = SimState(SimulatorConfig(days=4, calls_per_day=5000))
    return st.records()


def test_same_config_same_bytes_other_seed_other_data():
    a = SimState(SimulatorConfig(days=2, calls_per_day=500, updated_fraction=0.1, late_fraction=0.1))
    b = SimState(SimulatorConfig(days=2, calls_per_day=500, updated_fraction=0.1, late_fraction=0.1))
    c = SimState(SimulatorConfig(days=2, calls_per_day=500, seed=8))
    for st in (a, b, c):
        st.sel = st.dataset.select(Filters(), st.now_epoch)
    ja = a.dataset.json_records(a.sel.days, a.sel.rows, a.now_epoch)
    jb = b.dataset.json_records(b.sel.days, b.sel.rows, b.now_epoch)
    assert ja == jb
    assert b"".join(a.dataset.csv_chunks(a.sel, a.now_epoch)) == b"".join(
        b.dataset.csv_chunks(b.sel, b.now_epoch)
    )
    jc = c.dataset.json_records(c.sel.days, c.sel.rows, c.now_epoch)
    assert ja != jc


def test_knobs_do_not_change_the_base_data():
    plain = SimState(SimulatorConfig(days=1, calls_per_day=400)).records()
    knobs = SimState(SimulatorConfig(days=1, calls_per_day=400, extra_field="recording_url")).records()
    assert [{k: v for k, v in r.items() if k != "recording_url"} for r in knobs] == plain


def test_record_invariants(big):
    assert len(big) == 20000
    assert [r["id"] for r in big] == sorted(r["id"] for r in big)
    assert len({r["uuid"] for r in big}) == len(big)
    for r in big[:3000]:
        assert list(r) == list(FIELD_NAMES)
        assert uuid.UUID(r["uuid"]).version == 4
        assert r["account_id"] == "MA_DEMO0001"
        assert E164.match(r["caller_id_number"]) and E164.match(r["destination_number"])
        assert r["duration"] == r["ring_time"] + r["billsec"]
        start, end = ts(r["start_time"]), ts(r["end_time"])
        assert end - start == timedelta(seconds=r["duration"])
        assert start <= ts(r["progress_time"]) <= end
        assert ts(r["created_at"]) >= end and ts(r["updated_at"]) >= ts(r["created_at"])
        if r["billsec"] > 0:
            assert ts(r["answer_time"]) == start + timedelta(seconds=r["ring_time"])
            assert r["failure_code"] is None and r["bridge_uuid"] is not None
        else:
            assert r["answer_time"] is None and r["cost"] == 0 and r["failure_code"] is not None
        # INR per started minute, by kind of call; streaming on top.
        rate = (
            0.20
            if r["context"] == "public"
            else 0.45
            if r["trunk_id"]
            else 0.30
            if r["campaign_id"]
            else 0.35
        )
        assert r["cost"] == pytest.approx(round(math.ceil(r["billsec"] / 60) * rate, 2))
        assert r["total_cost"] == pytest.approx(r["cost"] + r["streaming_cost"])
        assert r["currency"] == "INR"
        assert HANGUP_CAUSES[r["hangup_cause"]][0] == r["hangup_cause_code"]
        assert 1.0 <= r["mos"] <= 5.0 and r["jitter"] >= 0 and 0 <= r["packet_loss"] <= 100
        assert r["call_direction"] in ("inbound", "outbound")


def test_realistic_distributions(big):
    answered = [r for r in big if r["billsec"] > 0]
    assert 0.45 <= len(answered) / len(big) <= 0.51  # about 48%
    causes = Counter(r["hangup_cause"] for r in big)
    assert set(causes) == DOCUMENTED_CAUSES
    assert causes.most_common(1)[0][0] == "NORMAL_CLEARING" and causes["NO_ANSWER"] > causes["SERVER_ERROR"]
    mos = np.array([r["mos"] for r in answered])
    assert 4.1 <= mos.mean() <= 4.3 and (mos < 3.5).mean() > 0.02  # around 4.2, with a poor tail
    assert max(r["jitter"] for r in answered) > 30 and max(r["packet_loss"] for r in answered) > 1
    assert 0.02 < sum(r["streaming_cost"] > 0 for r in big) / len(big) < 0.1
    rates = {round(r["cost"] / math.ceil(r["billsec"] / 60), 2) for r in answered}
    assert rates == {0.2, 0.3, 0.35, 0.45}
    clis = {r["caller_id_number"] for r in big if r["campaign_id"]}
    assert any(c.startswith("+91140") for c in clis) and any(
        c.startswith(("+911600", "+911601")) for c in clis
    )
    assert any(r["trunk_id"] and r["customer_endpoint"] for r in big)
    assert {r["codec"] for r in big} >= {"PCMA", "PCMU", "opus", None}
    assert {r["region"] for r in big} == {"ap-south-1", "ap-south-2"}
    assert any(r["terminated_to"] for r in big) and any(r["carrier_ip"] for r in big)
    assert Counter(r["call_direction"] for r in big)["outbound"] > len(big) / 2


def test_diurnal_spread_night_calls_and_midnights(big):
    ist = [ts(r["start_time"]).astimezone(timezone(timedelta(hours=5, minutes=30))) for r in big]
    hours = Counter(t.hour for t in ist)
    assert hours[11] > 5 * hours[3] > 0  # a business-hours peak, and night calls
    near_ist = sum(1 for t in ist if t.hour * 3600 + t.minute * 60 + t.second < 5 or
                   t.hour * 3600 + t.minute * 60 + t.second >= 86395)  # fmt: skip
    utc = [ts(r["start_time"]) for r in big]
    near_utc = sum(1 for t in utc if t.hour * 3600 + t.minute * 60 + t.second <= 5 or
                   t.hour * 3600 + t.minute * 60 + t.second >= 86395)  # fmt: skip
    assert 0.004 * len(big) <= near_ist <= 0.01 * len(big)
    assert 0.004 * len(big) <= near_utc <= 0.01 * len(big)
    # TRAI: campaign (telemarketing) calls only between 09:00 and 21:00.
    assert all(9 <= t.hour < 21 for t, r in zip(ist, big, strict=True) if r["campaign_id"])


def test_late_and_updated_records_follow_the_clock():
    cfg = SimulatorConfig(days=1, calls_per_day=1000, late_fraction=0.2, updated_fraction=0.3)
    st = SimState(cfg)
    final = {r["uuid"]: r for r in st.records()}
    assert len(final) == 1000
    updated = [r for r in final.values() if r["updated_at"] != r["created_at"]]
    assert 200 < len(updated) < 400
    assert all(ts(r["created_at"]) >= ts(r["end_time"]) for r in final.values())
    end_of_day = datetime(2026, 3, 1, 18, 30, tzinfo=timezone.utc)
    st.set_now(end_of_day + timedelta(minutes=5))
    early = {r["uuid"]: r for r in st.records()}
    # Visible: exactly the records created by now; the missing ones are the late CDRs of the last 6 hours.
    assert set(early) == {u for u, r in final.items() if ts(r["created_at"]) <= st.now}
    missing = set(final) - set(early)
    late = {u for u in missing if ts(final[u]["created_at"]) - ts(final[u]["end_time"]) >= timedelta(hours=6)}
    assert 10 < len(late) < 100
    # The others are calls that had not ended yet.
    assert all(ts(final[u]["end_time"]) > st.now - timedelta(seconds=3) for u in missing - late)
    late_total = sum(ts(r["created_at"]) - ts(r["end_time"]) >= timedelta(hours=6) for r in final.values())
    assert 150 < late_total < 250  # a fifth of the day
    # Before its updated_at, a record is served in its first version.
    first_versions = [
        early[r["uuid"]] for r in updated if r["uuid"] in early and ts(r["updated_at"]) > st.now
    ]
    assert first_versions
    changed = 0
    for old in first_versions:
        new = final[old["uuid"]]
        assert old["updated_at"] == old["created_at"] and new["id"] == old["id"]
        changed += (new["billsec"], new["total_cost"], new["hangup_cause"]) != (
            old["billsec"], old["total_cost"], old["hangup_cause"])  # fmt: skip
        assert new["duration"] == new["ring_time"] + new["billsec"]
    assert changed == len(first_versions)


def test_malformed_and_extra_field_in_json_and_csv():
    st = SimState(
        SimulatorConfig(days=2, calls_per_day=200, malformed_records=3, extra_field="recording_url")
    )
    recs = st.records()
    wrong = [r for r in recs if r.get("duration") == "abc"]
    missing = [r for r in recs if "hangup_cause" not in r]
    assert len(wrong) + len(missing) == 6 and wrong and missing
    assert all("recording_url" in r for r in recs)
    assert any(r["recording_url"] and r["recording_url"].endswith(".mp3") for r in recs)
    sel = st.dataset.select(Filters(), st.now_epoch)
    text = (
        st.dataset.header() + b"".join(bytes(c) for c in st.dataset.csv_chunks(sel, st.now_epoch))
    ).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [*FIELD_NAMES, "recording_url"]
    by_uuid = {r["uuid"]: r for r in rows}
    assert all(by_uuid[r["uuid"]]["duration"] == "abc" for r in wrong)
    assert all(by_uuid[r["uuid"]]["hangup_cause"] == "" for r in missing)


def test_page_positions_and_drift():
    pos, pages = _page_positions(45, 1, 20, drift=False)
    assert pages == 3 and pos.tolist() == list(range(44, 24, -1))
    assert _page_positions(45, 4, 20, drift=False)[0].tolist() == []
    p1, pages = _page_positions(45, 1, 20, drift=True)
    p2, _ = _page_positions(45, 2, 20, drift=True)
    p3, _ = _page_positions(45, 3, 20, drift=True)
    assert pages == 3 and p1[-1] == p2[0]  # the last of page 1 is served again first on page 2
    assert sorted(set(np.concatenate([p1, p2, p3]).tolist())) == list(range(45))
    assert _page_positions(0, 1, 20, drift=True)[1] == 0


def test_window_selection_in_both_timezones():
    for tz, hours in (("Asia/Kolkata", 5.5), ("UTC", 0)):
        ds = Dataset(SimulatorConfig(days=3, calls_per_day=300, date_filter_timezone=tz))
        from airflow_provider_vobiz.simulator.data import day_window

        lo, hi = day_window(date(2026, 3, 2), date(2026, 3, 2), tz)
        assert datetime.fromtimestamp(lo, timezone.utc) == datetime(
            2026, 3, 2, tzinfo=timezone.utc
        ) - timedelta(hours=hours)
        assert hi - lo == 86400
        sel = ds.select(Filters(lo=lo, hi=hi), ds.cfg.end_epoch + 86400)
        starts = np.array([ds.core(int(d)).start[r] for d, r in zip(sel.days, sel.rows, strict=True)])
        assert len(starts) and starts.min() >= lo and starts.max() < hi


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"days": 0}, "days"),
        ({"date_filter_timezone": "Europe/Paris"}, "date_filter_timezone"),
        ({"late_fraction": 1.5}, "late_fraction"),
        ({"auth_id": "bad id!"}, "auth_id"),
        ({"auth_token": ""}, "auth_token"),
        ({"extra_field": "Not A Name"}, "extra_field"),
        ({"malformed_records": -1}, "malformed_records"),
        ({"now": datetime(2026, 3, 1)}, "timezone-aware"),
    ],
)
def test_config_rejects_bad_values(kw, message):
    with pytest.raises(ValueError, match=message):
        SimulatorConfig(**kw)


def test_multiline_hostile_and_malformed_records_in_csv_match_json():
    """Values with CR, LF, quotes and commas are quoted (RFC 4180) and read back as the JSON serves them;
    only those records are quoted, and a malformed record keeps its one fault."""
    from airflow_provider_vobiz.simulator.data import HOSTILE_VALUES, MULTILINE_VALUES

    st = SimState(
        SimulatorConfig(
            days=2, calls_per_day=200, multiline_records=5, hostile_records=5, malformed_records=3
        )
    )
    by_json = {r["uuid"]: r for r in st.records() if isinstance(r, dict) and "uuid" in r}
    sel = st.dataset.select(Filters(), st.now_epoch)
    data = st.dataset.header() + b"".join(bytes(c) for c in st.dataset.csv_chunks(sel, st.now_epoch))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline="")))
    assert len(rows) == 400
    quoted = [line for line in data.split(b"\n") if b'"' in line]
    for values, count in ((MULTILINE_VALUES, 10), (HOSTILE_VALUES, 10)):
        held = [r for r in rows if r["caller_id_name"] == values["caller_id_name"]]
        assert len(held) == count
        for r in held:
            assert {k: r[k] for k in values} == values
            assert {k: by_json[r["uuid"]][k] for k in values} == values
    assert len({line.split(b",")[1] for line in quoted if line[:1].isdigit()}) == 20  # only those are quoted
    assert sum(1 for r in rows if r["duration"] == "abc" or r["hangup_cause"] == "") >= 2
