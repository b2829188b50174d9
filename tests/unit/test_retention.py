"""Retention window, day assessment, completeness counts and report shape: plain functions, no servers."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
import pytest

from airflow_provider_vobiz.lake import retention as enforce
from airflow_provider_vobiz.lake.manifest import content_sha256
from airflow_provider_vobiz.reports import retention as rr

D = dt.date
PREFIX = "lake/cdr/account_id=MA1/call_date=2025-01-10/"


@pytest.mark.parametrize(
    ("as_of", "start", "end", "days"),
    [
        (D(2025, 3, 1), D(2023, 3, 1), D(2025, 2, 28), 731),  # holds 2024-02-29
        # 29 February's anniversary two years back is 1 March: no 29 February inside, 730 days.
        (D(2024, 2, 29), D(2022, 3, 1), D(2024, 2, 28), 730),
        (D(2028, 2, 29), D(2026, 3, 1), D(2028, 2, 28), 730),
        (D(2024, 3, 1), D(2022, 3, 1), D(2024, 2, 29), 731),
        (D(2026, 2, 28), D(2024, 2, 28), D(2026, 2, 27), 731),
        (D(2026, 11, 27), D(2024, 11, 27), D(2026, 11, 26), 730),
        (D(2027, 1, 1), D(2025, 1, 1), D(2026, 12, 31), 730),
    ],
)
def test_window_is_two_calendar_years(as_of, start, end, days):
    assert enforce.retention_window(as_of) == (start, end)
    assert len(rr.window_days(start, end)) == days


def test_leap_year_window_has_731_days():
    start, end = enforce.retention_window(D(2025, 3, 1))
    days = rr.window_days(start, end)
    assert len(days) == 731 and D(2024, 2, 29) in days


def test_every_as_of_date_from_2020_to_2032() -> None:
    """731 days exactly when the window holds a 29 February, else 730; a day leaves on its expires_on."""
    as_of, last = D(2020, 1, 1), D(2032, 12, 31)
    first_leaving: dict[dt.date, dt.date] = {}
    previous: set[dt.date] = set()
    while as_of <= last:
        start, end = enforce.retention_window(as_of)
        held = set(rr.window_days(start, end))
        has_leap_day = any(d.month == 2 and d.day == 29 for d in held)
        assert len(held) == (731 if has_leap_day else 730), as_of
        assert end == as_of - dt.timedelta(days=1)
        for day in previous - held:  # the as-of dates on which a day leaves the window
            first_leaving.setdefault(day, as_of)
        assert all(enforce.in_window(d, as_of) for d in (start, end))
        assert not enforce.in_window(start - dt.timedelta(days=1), as_of)
        previous = held
        as_of += dt.timedelta(days=1)
    assert len(first_leaving) > 3000 and D(2024, 2, 29) in first_leaving
    for day, leaving in first_leaving.items():
        assert enforce.expires_on(day) == leaving, day


def test_window_is_configurable_and_checked():
    assert enforce.retention_window(D(2026, 11, 27), years=3)[0] == D(2023, 11, 27)
    with pytest.raises(ValueError, match="at least 1"):
        enforce.retention_window(D(2026, 11, 27), years=0)


def test_expiry_matches_the_window():
    # A day leaves the window exactly on expires_on, never earlier, for every day of a leap period.
    for offset in range(0, 800, 7):
        day = D(2023, 12, 1) + dt.timedelta(days=offset)
        leave = enforce.expires_on(day)
        assert enforce.retention_window(leave - dt.timedelta(days=1))[0] <= day
        assert enforce.retention_window(leave)[0] > day
    assert enforce.expires_on(D(2024, 2, 29)) == D(2026, 3, 1)


def test_retain_until_is_midnight_ist_of_the_expiry_day():
    assert enforce.retain_until(D(2026, 11, 25)) == dt.datetime(2028, 11, 25, 18, 30, tzinfo=dt.timezone.utc)
    assert enforce.lifecycle_days(2, 30) == 762


def test_gap_ranges():
    days = [D(2025, 1, 1), D(2025, 1, 2), D(2025, 1, 3), D(2025, 1, 7), D(2025, 1, 9), D(2025, 1, 10)]
    assert rr.gap_ranges(days) == [
        {"start": "2025-01-01", "end": "2025-01-03", "days": 3},
        {"start": "2025-01-07", "end": "2025-01-07", "days": 1},
        {"start": "2025-01-09", "end": "2025-01-10", "days": 2},
    ]
    assert rr.gap_ranges([]) == []


def manifest(parts: list[tuple[str, bytes, int]], **extra) -> dict:
    entries = [
        {"key": PREFIX + name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "rows": rows}
        for name, data, rows in parts
    ]
    return {
        "row_count": sum(p[2] for p in parts),
        "parts": entries,
        "content_sha256": content_sha256(e["sha256"] for e in entries),
        "reconciliation": {"api_total": 7, "matched": True},
        **extra,
    }


PARTS = [("part-00000.parquet", b"a" * 100, 4), ("part-00001.parquet", b"b" * 50, 3)]
SIZES = {PREFIX + "part-00000.parquet": 100, PREFIX + "part-00001.parquet": 50, PREFIX + "_manifest.json": 9}


def test_assess_present_day():
    m = manifest(PARTS, history=[{}, {}])
    lock = {"mode": "GOVERNANCE", "retain_until": "x", "current": True}
    rec = rr.assess_day(D(2025, 1, 10), m, SIZES, PREFIX, object_lock=lock, legal_hold=True)
    assert rec.status == rr.STATUS_PRESENT and rec.hash_check == "ok"
    assert (rec.rows, rec.bytes, rec.parts) == (7, 150, 2)
    assert rec.legal_hold and rec.restatements == 2 and rec.retain_until == "x"
    assert rec.reconciliation_matched is True and rec.api_total == 7
    assert rec.expires_on == D(2027, 1, 11)


def test_assess_missing_day_and_orphan_parts():
    assert rr.assess_day(D(2025, 1, 10), None, {}, PREFIX).status == rr.STATUS_MISSING
    rec = rr.assess_day(D(2025, 1, 10), None, {PREFIX + "part-00000.parquet": 3}, PREFIX)
    assert rec.status == rr.STATUS_MISSING and "without a published manifest" in rec.problems[0]


def test_assess_failed_quality():
    rec = rr.assess_day(D(2025, 1, 10), manifest(PARTS), SIZES, PREFIX, quality={"status": "failed"})
    assert rec.status == rr.STATUS_FAILED_QUALITY and rec.quality_status == "failed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m, s: s.update({PREFIX + "part-00001.parquet": 49}), "has 49 bytes"),
        (lambda m, s: s.pop(PREFIX + "part-00001.parquet"), "not in the lake"),
        (lambda m, s: m.update(content_sha256="0" * 64), "content_sha256"),
        (lambda m, s: m.update(row_count=8), "row_count is 8"),
    ],
)
def test_assess_checksum_mismatch(change, message):
    m, sizes = manifest(PARTS), dict(SIZES)
    change(m, sizes)
    rec = rr.assess_day(D(2025, 1, 10), m, sizes, PREFIX)
    assert rec.status == rr.STATUS_CHECKSUM_MISMATCH and rec.hash_check == "mismatch"
    assert any(message in p for p in rec.problems), rec.problems


def test_parts_no_manifest_names_are_not_a_mismatch():
    # What an unfinished publish left: readers who follow the manifest never see it; the next run collects it.
    sizes = {**SIZES, PREFIX + "part-00000-20261201T120000Z-0a1b2c3d.parquet": 5}
    rec = rr.assess_day(D(2025, 1, 10), manifest(PARTS), sizes, PREFIX)
    assert rec.status == rr.STATUS_PRESENT and rec.problems == []


def test_etag_mismatch_is_a_checksum_mismatch():
    m = manifest(PARTS)
    m["parts"][0]["etag"] = "0" * 32
    etags = {PREFIX + "part-00000.parquet": "f" * 32}
    rec = rr.assess_day(D(2025, 1, 10), m, SIZES, PREFIX, listed_etags=etags)
    assert rec.status == rr.STATUS_CHECKSUM_MISMATCH
    assert rec.problems == [f"part part-00000.parquet has ETag {'f' * 32}, the manifest records {'0' * 32}"]


def test_full_mode_rehash_finds_corruption():
    data = {PREFIX + "part-00000.parquet": b"a" * 100, PREFIX + "part-00001.parquet": b"c" * 50}
    rec = rr.assess_day(
        D(2025, 1, 10), manifest(PARTS), SIZES, PREFIX, rehash=lambda k: hashlib.sha256(data[k]).hexdigest()
    )
    assert rec.status == rr.STATUS_CHECKSUM_MISMATCH
    assert rec.problems == ["part part-00001.parquet sha256 differs from the manifest"]


def test_field_completeness_counts():
    ts = pa.timestamp("us", tz="UTC")
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    table = pa.table(
        {
            "caller_id_number": ["+919812345678", "12345", None, "+919812345679"],
            "destination_number": ["+918012345678"] * 4,
            "start_time": pa.array([t0, t0, None, t0], ts),
            "end_time": pa.array([t0, t0 - dt.timedelta(seconds=1), t0, None], ts),
            "duration": [1, -1, None, 3],
            "call_direction": ["inbound", "outbound", "sideways", None],
            "sip_call_id": ["a", " ", None, "b"],
        }
    )
    counts = rr.field_completeness_counts(table)
    assert counts["caller_id_number"] == {"null": 1, "invalid": 1}
    assert counts["destination_number"] == {"null": 0, "invalid": 0}
    assert counts["start_time"] == {"null": 1, "invalid": 0}
    assert counts["end_time"] == {"null": 1, "invalid": 1}
    assert counts["duration"] == {"null": 1, "invalid": 1}
    assert counts["call_direction"] == {"null": 1, "invalid": 1}
    assert counts["sip_call_id"] == {"null": 1, "invalid": 1}
    # A column the files lack counts every row as null.
    assert rr.field_completeness_counts(table.drop_columns(["sip_call_id"]))["sip_call_id"] == {
        "null": 4,
        "invalid": 0,
    }


def test_sample_days_spreads_and_keeps_newest():
    days = [D(2025, 1, 1) + dt.timedelta(days=i) for i in range(731)]
    picked = rr.sample_days(days, 31)
    assert len(picked) == 31 and picked[0] == days[0] and picked[-1] == days[-1]
    assert rr.sample_days(days[:5], 31) == days[:5]
    assert rr.sample_days(days, 1) == [days[-1]]


def _inventory(records, as_of=None, outside=()):
    as_of = as_of or D(2025, 3, 1)
    start, end = enforce.retention_window(as_of)
    present = sorted([r.call_date for r in records if r.status != rr.STATUS_MISSING] + list(outside))
    return rr.Inventory(
        account_id="MA1",
        as_of=as_of,
        years=2,
        start=start,
        end=end,
        verify="manifest",
        days=records,
        outside_window=list(outside),
        all_present_days=present,
        listed_objects=10,
        manifests_read=3,
        seconds=0.1,
    )


def test_build_report_shape_and_totals():
    as_of = D(2025, 3, 1)
    start, end = enforce.retention_window(as_of)
    records = []
    for day in rr.window_days(start, end):
        rec = rr.DayRecord(call_date=day, expires_on=enforce.expires_on(day))
        if day.day != 15:
            rec.status, rec.rows, rec.bytes = rr.STATUS_PRESENT, 10, 100
        records.append(rec)
    report = rr.build_report(
        _inventory(records, outside=[D(2022, 1, 1)]),
        generated_at="2025-03-01T00:00:00Z",
        dag_run=None,
        deletions=[{"call_date": "2022-12-01", "reason": "retention expired"}],
    )
    assert report["report"] == "trai_retention"
    assert report["policy"]["obligation"] == "rests on the licensee"
    assert "21 Dec 2021" in report["policy"]["source"]
    assert report["window"] == {"start": "2023-03-01", "end": "2025-02-28", "days": 731}
    totals = report["totals"]
    assert totals["expected_days"] == 731 and totals["verified_days"] == 731 - 24
    assert totals["coverage"] == round(707 / 731, 6)
    assert len(totals["gaps"]) == 24 and totals["gaps"][0] == {
        "start": "2023-03-15",
        "end": "2023-03-15",
        "days": 1,
    }
    assert totals["oldest_day"] == "2022-01-01" and totals["past_retention_days"] == ["2022-01-01"]
    # The first 30 days of the window leave it within 30 days (2023-03-01 .. 2023-03-30), minus the missing 15th.
    expiring = [e["call_date"] for e in totals["expiring_within_30_days"]]
    assert expiring[0] == "2023-03-01" and expiring[-1] == "2023-03-30" and len(expiring) == 29
    assert totals["deletions"][0]["call_date"] == "2022-12-01"
    assert report["dag_run"] is None
    rows = rr.csv_rows(report)
    assert len(rows) == 731 and rows[0][:2] == ["2023-03-01", "present"]


def test_render_all_formats_without_servers():
    as_of = D(2026, 11, 27)
    start, end = enforce.retention_window(as_of)
    records = [
        rr.DayRecord(call_date=d, expires_on=enforce.expires_on(d)) for d in rr.window_days(start, end)
    ]
    records[-1].status = rr.STATUS_CHECKSUM_MISMATCH
    records[-1].problems = ["part part-00000.parquet has 1 bytes, the manifest records 2"]
    report = rr.build_report(_inventory(records, as_of=as_of), enforcement={"purge": {"enabled": False}})
    out = rr.render(report)
    assert out["pdf"].startswith(b"%PDF")
    html = out["html"].decode()
    assert "TRAI CDR retention report" in html and "rests on the licensee" in html
    assert "has 1 bytes" in html
    assert out["csv"].decode().count("\r\n") == 731
    with pytest.raises(ValueError, match="unknown report format"):
        rr.render(report, ["xlsx"])


def test_a_report_is_provisional_while_the_window_can_still_change():
    as_of = D(
        2026, 11, 27
    )  # the window ends 2026-11-26: the run of 11-29 (at 11-30) re-pulls it, +1 day of margin
    start, end = enforce.retention_window(as_of)
    records = [
        rr.DayRecord(call_date=d, expires_on=enforce.expires_on(d)) for d in rr.window_days(start, end)
    ]
    made_on_the_day = rr.build_report(_inventory(records, as_of=as_of), repull_days=3, today=as_of)
    assert made_on_the_day["status"] == "provisional"
    assert made_on_the_day["status_rule"] == {
        "repull_days": 3,
        "as_of": "2026-11-27",
        "final_from": "2026-12-01",
    }
    html = rr.render(made_on_the_day, ["html"])["html"].decode()
    assert "PROVISIONAL" in html and "2026-12-01" in html
    assert rr.build_report(_inventory(records, as_of=as_of), repull_days=3, today=D(2026, 11, 30))[
        "status"
    ] == ("provisional")
    later = rr.build_report(_inventory(records, as_of=as_of), repull_days=3, today=D(2026, 12, 1))
    assert later["status"] == "final" and "PROVISIONAL" not in rr.render(later, ["html"])["html"].decode()


def test_bad_modes_are_refused():
    with pytest.raises(ValueError, match="verify must be one of"):
        rr.inventory(None, None, "MA1", D(2025, 1, 1), verify="deep")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="object lock mode"):
        enforce.apply_object_lock(None, None, "MA1", D(2025, 1, 1), mode="strict")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="as_of"):
        rr.parse_day("yesterday", "as_of")
