"""The TRAI summary against an independent computation: plain Python over the very records written to the
lake (on the moto S3 server), never the report's SQL.

Days: an ordinary day (with calls across midnight and at the calling-window edges), a day with no calls, a
day where nothing was answered, and missing days.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pypdf
import pytest

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, SORT_KEYS
from airflow_provider_vobiz.lake.manifest import content_sha256, write_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.records import write_quality
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.reports import summary as S
from airflow_provider_vobiz.reports.privacy import NumberPolicy, hmac_token

pytestmark = pytest.mark.integration

IST = ZoneInfo("Asia/Kolkata")
UTC = dt.timezone.utc
ACCOUNT = "MA_TEST01"
KEY = b"test-hmac-key-0123456789abcdef"
ORDINARY, EMPTY, UNANSWERED, SECOND = (dt.date(2026, 10, d) for d in (1, 2, 3, 5))
CLIS = ["+911401234567", "+911600765432", "+918065480214", "+917940001234"]
CUSTOMERS = [f"+9198{i:08d}" for i in range(40)]
CAUSES_ANSWERED = ["NORMAL_CLEARING"] * 8 + [
    "MEDIA_TIMEOUT",
    "NETWORK_OUT_OF_ORDER",
    "UNKNOWN",
    "WEIRD_NEW_CAUSE",
]
CAUSES_UNANSWERED = [
    "NO_ANSWER",
    "USER_BUSY",
    "ORIGINATOR_CANCEL",
    "CALL_REJECTED",
    "REJECTED",
    "INVALID_NUMBER",
    "UNALLOCATED_NUMBER",
    "SERVICE_UNAVAILABLE",
    "SWITCH_CONGESTION",
    "UNKNOWN",
    "WEIRD_NEW_CAUSE",
]


# -- records ----------------------------------------------------------------------------------------------
def _record(
    rng: random.Random, i: int, start: dt.datetime, answered: bool, direction: str | None = None
) -> dict:
    direction = direction or rng.choice(["inbound", "outbound", "outbound"])
    ring = rng.choice([0, 0, 3, 5, 8, 12, 20])
    billsec = rng.choice([1, 4, 9, 10, 30, 61, 125, 600]) if answered else 0
    duration = ring + billsec if rng.random() < 0.8 else billsec
    cli, other = rng.choice(CLIS), rng.choice(CUSTOMERS)
    campaign = rng.choice([None, "camp-a", "camp-b"]) if direction == "outbound" else None
    cost = Decimal(rng.choice(["0", "0.3", "0.6", "1.25"])) if answered else Decimal("0")
    streaming = Decimal(rng.choice(["0", "0", "0.05"])) if answered else Decimal("0")
    progress = start + dt.timedelta(milliseconds=rng.choice([0, 0, 250, 1000, 2500]))
    return {
        "id": i,
        "uuid": f"u-{start.date()}-{i:05d}",
        "call_direction": direction,
        "caller_id_name": "Test",
        "caller_id_number": cli if direction == "outbound" else other,
        "destination_number": other if direction == "outbound" else cli,
        "duration": duration,
        "billsec": billsec,
        "ring_time": ring,
        "answer_time": start + dt.timedelta(seconds=ring) if answered else None,
        "start_time": start.astimezone(UTC),
        "end_time": (start + dt.timedelta(seconds=duration)).astimezone(UTC),
        "progress_time": progress.astimezone(UTC),
        "created_at": start.astimezone(UTC),
        "updated_at": start.astimezone(UTC),
        "cost": cost,
        "total_cost": cost + streaming,
        "streaming_cost": streaming,
        "currency": "INR",
        "hangup_cause": rng.choice(CAUSES_ANSWERED if answered else CAUSES_UNANSWERED),
        "hangup_cause_code": 4000,
        "hangup_cause_name": "x",
        "hangup_disposition": "send_bye",
        "hangup_source": rng.choice(["Caller", "Callee", "Carrier", None]),
        "failure_code": None,
        "failure_reason": None,
        "bridge_uuid": None,
        "sip_call_id": f"sip-{i}",
        "sip_user_agent": "Vobiz",
        "codec": rng.choice(["PCMU", "PCMA", "opus", None]),
        "mos": rng.choice([4.5, 4.2, 3.6, 3.55, 3.5, 3.4, 2.9, None])
        if answered
        else rng.choice([0.0, None]),
        "jitter": rng.choice([0.0, 5.5, 12.0, 30.0, 30.5, 80.0, None]) if answered else 0.0,
        "packet_loss": rng.choice([0.0, 0.5, 1.0, 1.01, 4.0, None]) if answered else 0.0,
        "network_addr": "3.110.99.6",
        "carrier_ip": None,
        "context": "voice-api",
        "region": rng.choice(["ap-south-1", "ap-south-2"]),
        "origination_region": "mumbai",
        "campaign_id": campaign,
        "customer_endpoint": None,
        "trunk_id": rng.choice(["trunk-a", "trunk-b", None]),
        "terminated_to": None,
        "extra": None,
    }


def _day_records(day: dt.date, n: int, answer_rate: float, seed: int) -> list[dict]:
    rng = random.Random(seed)
    midnight = dt.datetime.combine(day, dt.time(0), IST)
    starts = [midnight + dt.timedelta(seconds=rng.randrange(86400)) for _ in range(n)]
    # Edges: the calling window's bounds and a call that starts before midnight and ends after it.
    edges = [(9, 59, 59), (10, 0, 0), (20, 59, 59), (21, 0, 0), (23, 59, 50), (0, 0, 0)]
    starts += [dt.datetime.combine(day, dt.time(h, m, s), IST) for h, m, s in edges]
    recs = [
        _record(rng, i, s, rng.random() < answer_rate, "outbound" if i >= n else None)
        for i, s in enumerate(starts)
    ]
    if answer_rate > 0:
        across = recs[-2]  # 23:59:50 IST, ten minutes long: belongs to its start day
        across.update(billsec=600, ring_time=2, duration=602, hangup_cause="NORMAL_CLEARING")
        across["answer_time"] = across["start_time"] + dt.timedelta(seconds=2)
        across["end_time"] = across["start_time"] + dt.timedelta(seconds=602)
    return recs


def _write_day(
    storage: LakeStorage,
    layout: LakeLayout,
    day: dt.date,
    recs: list[dict],
    quality: str,
    list_parts: bool = True,
) -> None:
    table = pa.Table.from_pylist(recs, schema=FILE_SCHEMA).sort_by(list(SORT_KEYS))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    data = buf.getvalue()
    key = layout.part_key(ACCOUNT, day, 0)
    storage.put_bytes(key, data)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    manifest = {
        "schema_version": 1,
        "account_id": ACCOUNT,
        "call_date": day.isoformat(),
        "timezone": "Asia/Kolkata",
        "row_count": len(recs),
        "parts": [{"key": key, "bytes": len(data), "sha256": sha, "rows": len(recs)}],
        "content_sha256": content_sha256([sha]),
        "reconciliation": {"api_total": len(recs), "matched": True},
        "rejects": {"count": 2 if day == ORDINARY else 0},
        "history": [{"old_row_count": 1, "new_row_count": len(recs)}] if day == ORDINARY else [],
    }
    if not list_parts:  # an older manifest without its parts: the report lists the partition's part files
        del manifest["parts"]
    write_manifest(storage, layout, manifest)
    if quality != "pending":
        write_quality(
            storage, layout, ACCOUNT, day, {"status": quality, "content_sha256": manifest["content_sha256"]}
        )


@pytest.fixture
def lake(s3_lake):
    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    days = {
        ORDINARY: (_day_records(ORDINARY, 300, 0.5, 1), "passed"),
        EMPTY: ([], "passed"),
        UNANSWERED: (_day_records(UNANSWERED, 40, 0.0, 3), "warning"),
        SECOND: (_day_records(SECOND, 120, 0.6, 5), "pending"),
    }
    for day, (recs, quality) in days.items():
        _write_day(storage, layout, day, recs, quality, list_parts=day != SECOND)
    return storage, layout, {d.isoformat(): r for d, (r, _) in days.items()}


# -- the independent computation --------------------------------------------------------------------------
def _rank(values: list, p: int):
    """Nearest rank: the smallest value whose cumulative count reaches ceil(p/100 * n)."""
    if not values:
        return None
    v = sorted(values)
    k = -(-p * len(v) // 100)
    return v[max(k, 1) - 1]


def _ratio(a, b):
    return a / b if b else None


def expected(recs: list[dict]) -> dict:
    cls = S.DEFAULT_HANGUP_CLASSES
    n = len(recs)
    ans = [r for r in recs if r["billsec"] > 0]
    a = len(ans)
    un = [r for r in recs if r["billsec"] == 0]
    u = sum(1 for r in un if cls.get(r["hangup_cause"], "K") == "U")
    x = sum(1 for r in un if cls.get(r["hangup_cause"], "K") == "X")
    oc = sum(1 for r in un if r["hangup_cause"] == "ORIGINATOR_CANCEL")
    dropped = sum(1 for r in ans if cls.get(r["hangup_cause"], "K") == "X")
    billsec = sum(r["billsec"] for r in recs)
    mos = [r["mos"] for r in ans if r["mos"] is not None]
    jit = [r["jitter"] for r in ans if r["jitter"] is not None]
    loss = [r["packet_loss"] for r in ans if r["packet_loss"] is not None]
    pdd = [round((r["progress_time"] - r["start_time"]).total_seconds() * 1000) for r in recs]
    fa = sum(1 for r in ans if r["ring_time"] == 0 or r["billsec"] == r["duration"])
    total_cost = sum((r["total_cost"] for r in recs), Decimal(0))
    return {
        "calls": n,
        "answered": a,
        "mou": billsec / 60,
        "asr": _ratio(a, n),
        "ner": _ratio(a + u, n),
        "ner_excl_originator_cancel": _ratio(a + u - oc, n),
        "setup_success_proxy": _ratio(n - x, n),
        "dropped_call_proxy": _ratio(dropped, a),
        "acd_mean": _ratio(billsec, a),
        "acd_median": _rank([r["billsec"] for r in ans], 50),
        "acd_p90": _rank([r["billsec"] for r in ans], 90),
        "pdd_ms_p50": _rank(pdd, 50),
        "pdd_ms_p95": _rank(pdd, 95),
        "ring_time_p50": _rank([r["ring_time"] for r in recs], 50),
        "ring_time_p95": _rank([r["ring_time"] for r in recs], 95),
        "false_answer_suspects": fa,
        "false_answer_share": _ratio(fa, a),
        "mos_mean": _ratio(sum(mos), len(mos)),
        "mos_p5": _rank(mos, 5),
        "mos_good_share": _ratio(sum(1 for m in mos if m >= 3.6), len(mos)),
        "mos_poor_share": _ratio(sum(1 for m in mos if m < 3.5), len(mos)),
        "jitter_p95": _rank(jit, 95),
        "jitter_over_30ms_share": _ratio(sum(1 for j in jit if j > 30), len(jit)),
        "packet_loss_over_1pct_share": _ratio(sum(1 for p in loss if p > 1), len(loss)),
        "cost": sum((r["cost"] for r in recs), Decimal(0)),
        "total_cost": total_cost,
        "streaming_cost": sum((r["streaming_cost"] for r in recs), Decimal(0)),
        "total_cost_per_answered_minute": float(total_cost) / (billsec / 60) if billsec else None,
    }


def _assert_metrics(got: dict, want: dict, where: str) -> None:
    for k, v in want.items():
        g = got[k]
        if v is None or isinstance(v, (int, Decimal)) and not isinstance(v, bool):
            assert g == v, f"{where} {k}: report {g!r} != expected {v!r}"
        else:
            assert g == pytest.approx(v, rel=1e-12, abs=1e-12), f"{where} {k}: report {g!r} != expected {v!r}"


def _generate(lake, period: str) -> dict:
    storage, layout, _ = lake
    return S.generate(storage.filesystem, layout, ACCOUNT, period, generated_at="2026-11-01T00:00:00Z")


# -- tests ------------------------------------------------------------------------------------------------
def test_day_reports_match_independent_computation(lake) -> None:
    _, _, records = lake
    for day, recs in records.items():
        doc = _generate(lake, day)
        assert doc["period_kind"] == "day" and doc["days_expected"] == 1 and doc["missing_days"] == []
        _assert_metrics(doc["totals"], expected(recs), f"{day} all")
        for direction in ("inbound", "outbound"):
            _assert_metrics(
                doc["by_direction"][direction],
                expected([r for r in recs if r["call_direction"] == direction]),
                f"{day} {direction}",
            )


def test_edge_days(lake) -> None:
    empty = _generate(lake, EMPTY.isoformat())
    assert (
        empty["totals"]["calls"] == 0
        and empty["totals"]["asr"] is None
        and empty["totals"]["acd_median"] is None
    )
    assert empty["days_present"] == 1 and empty["inputs"][0]["row_count"] == 0
    none_answered = _generate(lake, UNANSWERED.isoformat())
    t = none_answered["totals"]
    assert t["answered"] == 0 and t["asr"] == 0 and t["acd_mean"] is None and t["mos_mean"] is None
    assert t["dropped_call_proxy"] is None and t["mou"] == 0
    # The call that started at 23:59:50 IST and ended after midnight counts, whole, on its start day.
    _, _, records = lake
    across = [
        r
        for r in records[ORDINARY.isoformat()]
        if r["start_time"].astimezone(IST).time() == dt.time(23, 59, 50)
    ]
    assert across and across[0]["end_time"].astimezone(IST).date() == ORDINARY + dt.timedelta(days=1)
    day = _generate(lake, ORDINARY.isoformat())
    assert day["totals"]["billsec_sum"] == sum(r["billsec"] for r in records[ORDINARY.isoformat()])


def test_month_report(lake) -> None:
    _, _, records = lake
    doc = _generate(lake, "2026-10")
    allrecs = [r for recs in records.values() for r in recs]
    assert doc["period_kind"] == "month" and doc["days_expected"] == 31 and doc["days_present"] == 4
    assert doc["missing_days"] == [f"2026-10-{d:02d}" for d in range(1, 32) if d not in (1, 2, 3, 5)]
    _assert_metrics(doc["totals"], expected(allrecs), "month")
    by_day = {d["call_date"]: d for d in doc["by_day"]}
    for day, recs in records.items():
        _assert_metrics(by_day[day], expected(recs), day)
    assert by_day["2026-10-04"] == {"call_date": "2026-10-04", "present": False}
    # Data quality and inputs come from the manifests.
    q = doc["quality"]
    assert q["worst_status"] == "pending" and q["days"]["2026-10-04"]["status"] == "missing"
    assert q["days"]["2026-10-01"]["rejects"] == 2 and q["days"]["2026-10-01"]["restatements"] == 1
    assert [i["call_date"] for i in doc["inputs"]] == sorted(records)
    assert all(len(i["manifest_sha256"]) == 64 for i in doc["inputs"])


def test_hangups_hours_ucc_series_cost(lake) -> None:
    _, _, records = lake
    recs = [r for rs in records.values() for r in rs]
    doc = _generate(lake, "2026-10")
    h = doc["hangups"]
    assert h["by_cause"]["period"] == dict(Counter(r["hangup_cause"] for r in recs))
    assert h["by_source"]["period"] == dict(Counter(r["hangup_source"] or "(none)" for r in recs))
    cls = S.DEFAULT_HANGUP_CLASSES
    want_class = Counter("answered" if r["billsec"] > 0 else cls.get(r["hangup_cause"], "K") for r in recs)
    assert h["by_class"]["period"] == dict(want_class)
    assert h["top_causes"][0]["cause"] == Counter(r["hangup_cause"] for r in recs).most_common(1)[0][0]
    assert doc["codec_mix"]["period"] == dict(
        Counter(r["codec"] or "(none)" for r in recs if r["billsec"] > 0)
    )

    def outside(r) -> bool:
        t = r["start_time"].astimezone(IST)
        return not (600 <= t.hour * 60 + t.minute < 1260)

    out = [r for r in recs if r["call_direction"] == "outbound"]
    for row in (x for x in doc["calling_hours"] if x["day"] == "period"):
        mine = [r for r in out if r["campaign_id"] == row["campaign_id"]]
        assert row["outbound_calls"] == len(mine)
        assert row["outside_window_answered"] == sum(1 for r in mine if outside(r) and r["billsec"] > 0)
        assert row["outside_window_unanswered"] == sum(1 for r in mine if outside(r) and r["billsec"] == 0)
    assert sum(x["outbound_calls"] for x in doc["calling_hours"] if x["day"] == "period") == len(out)
    for row in (x for x in doc["number_series"] if x["day"] == "period"):
        mine = [r for r in out if r["campaign_id"] == row["campaign_id"]]
        bad = [r for r in mine if not r["caller_id_number"].startswith(("+91140", "+911600", "+911601"))]
        assert (row["calls"], row["not_series_calls"]) == (len(mine), len(bad))
    # UCC per CLI per day.
    for row in doc["ucc"]:
        mine = [r for r in out if r["caller_id_number"] == row["cli"]]
        inbound = [
            r for r in recs if r["call_direction"] == "inbound" and r["destination_number"] == row["cli"]
        ]
        if row["day"] != "period":
            mine = [r for r in mine if r["start_time"].astimezone(IST).date().isoformat() == row["day"]]
            inbound = [r for r in inbound if r["start_time"].astimezone(IST).date().isoformat() == row["day"]]
        ans = [r for r in mine if r["billsec"] > 0]
        assert row["outbound_calls"] == len(mine) and row["inbound_calls"] == len(inbound)
        assert row["short_answered"] == sum(1 for r in ans if r["billsec"] < 10)
        assert row["in_out_ratio"] == pytest.approx(len(inbound) / len(mine))
    # Cost by trunk and region.
    for row in (x for x in doc["cost"]["by_trunk_region"] if x["day"] == "period"):
        mine = [r for r in recs if (r["trunk_id"] or "(none)", r["region"]) == (row["trunk"], row["region"])]
        assert row["calls"] == len(mine)
        assert row["total_cost"] == sum((r["total_cost"] for r in mine), Decimal(0))


def test_ucc_thresholds_flag(lake) -> None:
    cfg = S.SummaryConfig(ucc_min_volume=1, ucc_short_share=0.0, ucc_max_in_out_ratio=0.0)
    storage, layout, _ = lake
    doc = S.generate(storage.filesystem, layout, ACCOUNT, ORDINARY.isoformat(), config=cfg)
    assert doc["ucc"] and all(r["flagged"] for r in doc["ucc"] if r["answered"])
    strict = S.generate(storage.filesystem, layout, ACCOUNT, ORDINARY.isoformat())
    assert not any(r["flagged"] for r in strict["ucc"])  # fewer than 100 calls per CLI


def test_renderings(lake) -> None:
    _, _, records = lake
    doc = _generate(lake, "2026-10")
    out = S.render_outputs(doc, NumberPolicy(key=KEY))
    numbers = {
        r[k] for rs in records.values() for r in rs for k in ("caller_id_number", "destination_number")
    }

    data = json.loads(out["json"])
    assert data["report"] == "trai_summary" and data["account_id"] == ACCOUNT and data["period"] == "2026-10"
    assert data["totals"]["calls"] == doc["totals"]["calls"] and data["quality"]["worst_status"] == "pending"
    assert data["missing_days"] == doc["missing_days"] and data["dag_run"] is None
    for text in (out["json"].decode(), out["csv"].decode()):
        assert not any(n in text for n in numbers), "a raw phone number reached a machine-readable file"
        assert hmac_token(CLIS[0], KEY) in text

    html = out["html"].decode()
    assert html.count("<svg") >= 7 and "<script" not in html
    assert "TRAI reference (an operator obligation)" in html
    assert "27 of 31 days have no partition" in html
    assert not any(n[1:] in html for n in numbers) and "••••4567" in html

    pdf = pypdf.PdfReader(io.BytesIO(out["pdf"]))
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())  # wrapped lines -> spaces
    t = doc["totals"]
    assert f"{t['calls']:,}" in text and f"{t['answered']:,}" in text
    assert f"{t['asr'] * 100:.2f}%" in text and f"{t['ner'] * 100:.2f}%" in text
    assert f"₹{t['total_cost']:,.2f}" in text
    assert "TRAI reference (an operator obligation)" in text and "27 of 31 days have no partition" in text
    assert ACCOUNT in text and doc["inputs"][0]["manifest_sha256"][:16] in text
    assert not any(n[1:] in text for n in numbers) and "••••4567" in text


def test_raw_numbers_only_when_enabled(lake) -> None:
    doc = _generate(lake, ORDINARY.isoformat())
    raw = S.render_outputs(doc, NumberPolicy(include_raw_numbers=True))
    assert CLIS[0] in raw["json"].decode()
    assert CLIS[0][1:] not in raw["html"].decode()


def test_publish_writes_the_lake_keys(lake) -> None:
    storage, layout, _ = lake
    doc = _generate(lake, "2026-10")
    keys = S.publish(storage, layout, doc, S.render_outputs(doc, NumberPolicy(key=KEY)))
    for ext in ("csv", "json", "html", "pdf"):
        key = layout.summary_report_key(ACCOUNT, "2026-10", ext)
        assert keys[ext] == layout.s3_uri(key) and storage.exists(key)
    assert (
        json.loads(storage.get_bytes(layout.summary_report_key(ACCOUNT, "2026-10", "json")))["totals"][
            "calls"
        ]
        > 0
    )
