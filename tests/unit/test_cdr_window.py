"""cdr.window and cdr.assemble: which calls are the day's, each once, sorted, with bounded memory."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from airflow_provider_vobiz.cdr.assemble import DayAssembler
from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.cdr.window import DayWindow
from tests.fixtures.lake_records import ACCOUNT, iso, make_record

UTC = dt.timezone.utc


def test_ist_window_is_18_30_utc_to_18_30_utc():
    w = DayWindow.for_day("2026-05-11", "Asia/Kolkata")
    assert w.start == dt.datetime(2026, 5, 10, 18, 30, tzinfo=UTC)
    assert w.end == dt.datetime(2026, 5, 11, 18, 30, tzinfo=UTC)
    assert w.query_filters(1) == {"start_date": "2026-05-10", "end_date": "2026-05-12"}
    assert w.query_filters(0) == {"start_date": "2026-05-11", "end_date": "2026-05-11"}


def test_dst_day_is_23_hours():
    w = DayWindow.for_day(dt.date(2026, 3, 8), "America/New_York")
    assert w.end - w.start == dt.timedelta(hours=23)


def test_bad_timezone_and_day_are_clear():
    with pytest.raises(ValueError, match="unknown timezone 'Asia/Kolkatta'"):
        DayWindow.for_day("2026-05-11", "Asia/Kolkatta")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        DayWindow.for_day("11/05/2026", "UTC")
    with pytest.raises(ValueError, match="pad_days"):
        DayWindow.for_day("2026-05-11", "UTC").query_dates(-1)


def _assemble(records, window, tmp_path, rows_per_slice=7, batch=5, in_order=None):
    norm = Normalizer(ACCOUNT)
    asm = DayAssembler(window, str(tmp_path), expected_rows=len(records), rows_per_slice=rows_per_slice)
    for i in range(0, len(records), batch):
        asm.add(norm.from_records(records[i : i + batch]))
    if in_order is not None:
        assert asm._in_order is in_order
    table = pa.concat_tables(list(asm.tables()))
    return table, asm.summary()


def test_window_edges_dedupe_and_order(tmp_path):
    w = DayWindow.for_day("2026-05-11", "Asia/Kolkata")
    ist_midnight = w.start
    t = [
        ist_midnight - dt.timedelta(microseconds=1),  # 23:59:59.999999 IST the day before: out
        ist_midnight,  # 00:00 IST: in
        dt.datetime(2026, 5, 11, 0, 0, tzinfo=UTC),  # midnight UTC = 05:30 IST: in
        w.end - dt.timedelta(seconds=1),  # last second: in
        w.end,  # next IST day: out
    ]
    recs = [make_record(i, ts) for i, ts in enumerate(t)]
    recs[0]["start_time"] = "2026-05-10T18:29:59.999999Z"
    # The same call re-sent with a later update (page drift): keep the latest.
    newer = make_record(1, ist_midnight, updated_at=iso(ist_midnight + dt.timedelta(hours=2)), billsec=99)
    # Two identical copies of another call: one kept.
    recs += [newer, make_record(2, t[2])]
    # A call whose latest version moved out of the window is not the day's.
    recs += [
        make_record(50, t[3]),
        make_record(50, w.end + dt.timedelta(minutes=5), updated_at=iso(w.end + dt.timedelta(hours=1))),
    ]
    table, stats = _assemble(recs, w, tmp_path)
    got = table.to_pylist()
    assert [r["uuid"] for r in got] == [recs[1]["uuid"], recs[2]["uuid"], recs[3]["uuid"]]
    assert got[0]["billsec"] == 99
    assert [r["start_time"] for r in got] == sorted(r["start_time"] for r in got)
    assert stats == {"rows_in": 9, "duplicates": 3, "outside_window": 3, "in_window": 3}


def test_many_slices_give_one_sorted_day(tmp_path):
    w = DayWindow.for_day("2026-05-11", "UTC")
    # Out of order, several calls per second, duplicates spread across batches.
    recs = [make_record(i, w.start + dt.timedelta(seconds=(i * 7919) % 86_400 // 3)) for i in range(300)]
    recs += [
        make_record(i, w.start + dt.timedelta(seconds=(i * 7919) % 86_400 // 3)) for i in range(0, 300, 10)
    ]
    table, stats = _assemble(recs, w, tmp_path, rows_per_slice=10, batch=17)
    assert table.num_rows == 300 and stats["duplicates"] == 30
    keys = list(zip(table["start_time"].to_pylist(), table["uuid"].to_pylist(), strict=True))
    assert keys == sorted(keys)
    assert len(set(table["uuid"].to_pylist())) == 300


def test_empty_day(tmp_path):
    w = DayWindow.for_day("2026-05-11", "UTC")
    asm = DayAssembler(w, str(tmp_path), expected_rows=0)
    assert list(asm.tables()) == []
    assert asm.summary() == {"rows_in": 0, "duplicates": 0, "outside_window": 0, "in_window": 0}


@pytest.mark.parametrize("shuffle_tail", [False, True])
def test_rows_in_start_time_order_take_the_run_path_with_the_same_result(tmp_path, monkeypatch, shuffle_tail):
    import airflow_provider_vobiz.cdr.assemble as assemble

    monkeypatch.setattr(assemble, "_ROW_FLUSH_ROWS", 16)  # many chunks, ties across chunk edges
    w = DayWindow.for_day("2026-05-11", "UTC")
    # Five calls per second, uuids not in order within a second, plus an updated copy of some calls.
    recs = [
        make_record((i * 37) % 200, w.start + dt.timedelta(seconds=(i * 37) % 200 // 5)) for i in range(200)
    ]
    recs.sort(key=lambda r: r["start_time"])
    later = [
        make_record(i, w.start + dt.timedelta(seconds=i // 5), updated_at=iso(w.end), billsec=7)
        for i in range(0, 200, 25)
    ]
    if shuffle_tail:  # in order at first, then not: the run so far is sliced too
        stream = recs + later[::-1] + [make_record(999, w.start)]
    else:  # in order throughout, duplicates included
        stream = sorted(recs + later, key=lambda r: r["start_time"])
    (tmp_path / "a").mkdir()
    table, stats = _assemble(
        stream, w, tmp_path / "a", rows_per_slice=1000, batch=9, in_order=not shuffle_tail
    )
    keys = list(zip(table["start_time"].to_pylist(), table["uuid"].to_pylist(), strict=True))
    assert keys == sorted(keys) and len(set(table["uuid"].to_pylist())) == table.num_rows
    assert stats["duplicates"] == len(later)
    assert {r["billsec"] for r in table.to_pylist() if int(r["uuid"][-8:], 16) - 1 in range(0, 200, 25)} == {
        7
    }
    # The slice path (rows shuffled) gives the very same table.
    shuffled = stream[::2] + stream[1::2]
    (tmp_path / "b").mkdir()
    other, _ = _assemble(shuffled, w, tmp_path / "b", rows_per_slice=20, batch=9, in_order=False)
    assert other.equals(table)
