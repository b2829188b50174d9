"""Summary settings, periods and the SQL's contract with the code (no servers)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from airflow_provider_vobiz.reports import summary as S


def test_periods() -> None:
    assert S.parse_period("2026-10-05") == ("day", [dt.date(2026, 10, 5)])
    kind, days = S.parse_period("2024-02")
    assert kind == "month" and len(days) == 29 and days[-1] == dt.date(2024, 2, 29)
    for bad in ("2026-13", "2026-02-30", "26-10", "", "2026/10"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            S.parse_period(bad)
    assert S.previous_month(dt.date(2026, 1, 1)) == "2025-12"
    assert S.previous_month(dt.date(2026, 11, 30)) == "2026-10"


def test_config_validation() -> None:
    cfg = S.SummaryConfig.from_mapping({"calling_window": ["09:00", "21:00"], "ucc_min_volume": 50})
    assert cfg.window_minutes == (540, 1260) and cfg.ucc_min_volume == 50
    assert S.SummaryConfig(calling_window=("00:00", "24:00")).window_minutes == (0, 1440)
    with pytest.raises(ValueError, match="unknown summary settings"):
        S.SummaryConfig.from_mapping({"calling_windw": ["09:00", "21:00"]})
    with pytest.raises(ValueError, match="HH:MM"):
        S.SummaryConfig(calling_window=("9am", "21:00"))
    with pytest.raises(ValueError, match="before end"):
        S.SummaryConfig(calling_window=("21:00", "10:00"))
    with pytest.raises(ValueError, match="U, D, X or K"):
        S.SummaryConfig(hangup_classes={"USER_BUSY": "Z"})
    with pytest.raises(ValueError, match="unknown timezone"):
        S.SummaryConfig(timezone="Mars/Olympus")


def test_default_classes_follow_the_reference() -> None:
    c = S.DEFAULT_HANGUP_CLASSES
    assert {k for k, v in c.items() if v == "U"} == {
        "USER_BUSY",
        "NO_ANSWER",
        "CALL_REJECTED",
        "REJECTED",
        "ORIGINATOR_CANCEL",
    }
    assert {k for k, v in c.items() if v == "D"} == {"INVALID_NUMBER", "UNALLOCATED_NUMBER"}
    assert len([v for v in c.values() if v == "X"]) == 8 and "UNKNOWN" not in c


def test_utc_offsets() -> None:
    assert S._utc_offset_minutes("Asia/Kolkata", dt.date(2026, 10, 1)) == (True, 330)
    assert S._utc_offset_minutes("Europe/London", dt.date(2026, 7, 1)) == (True, 60)
    assert S._utc_offset_minutes("Europe/London", dt.date(2026, 10, 25))[0] is False  # DST ends that day


def test_columns_read_match_the_sql() -> None:
    """The day's SQL binds against exactly COLUMNS_READ (what the report reads from the lake) and uses each."""
    import duckdb
    import pyarrow as pa

    from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA

    types = {f.name: f.type for f in FILE_SCHEMA} | {"call_date": pa.string()}
    blocks = S._named_blocks("cube.sql")
    values = {"tz": "Asia/Kolkata", "offset_fixed": True, "utc_offset_min": 330, "win_start": 600}
    values |= {"win_end": 1260, "short_seconds": 10, "series_re": S.DEFAULT_SERIES_PATTERN}
    con = duckdb.connect()
    con.register("cdr", pa.table({c: pa.array([], types[c]) for c in S.COLUMNS_READ}))
    con.execute(blocks["create"])
    con.execute(S._inline(blocks["day"], values))
    for name, sql in blocks.items():
        if name not in ("", "create", "day"):
            con.execute(S._inline(sql, values))
    code = "\n".join(line for line in blocks["day"].splitlines() if not line.lstrip().startswith("--"))
    for column in S.COLUMNS_READ:
        assert re.search(rf"\b{column}\b", code), f"{column} is read but not used"
    missing = pa.table({c: pa.array([], types[c]) for c in S.COLUMNS_READ if c != "region"})
    con.register("cdr", missing)
    con.execute("DROP VIEW c")
    with pytest.raises(duckdb.BinderException):
        con.execute(S._inline(blocks["day"], values))


def test_sql_literals_are_quoted() -> None:
    assert S._inline("SELECT $a, $b, $c", {"a": "it's", "b": 5, "c": True}) == "SELECT 'it''s', 5, TRUE"
    with pytest.raises(KeyError, match="no value"):
        S._inline("SELECT $missing", {})


def test_series_pattern() -> None:
    pat = re.compile(S.DEFAULT_SERIES_PATTERN)
    for ok in ("+911401234567", "+911600123456", "+911601999999", "1401234567", "01600123456"):
        assert pat.match(ok), ok
    for bad in ("+918065480214", "+917940001234", "+911602123456", "+14012345678"):
        assert not pat.match(bad), bad


def test_missing_days_are_stated_as_ranges() -> None:
    days = ["2026-10-03", "2026-10-07", "2026-10-08", "2026-10-09", "2026-10-31"]
    assert S._day_ranges(days) == "2026-10-03, 2026-10-07 to 2026-10-09, 2026-10-31"
    assert S._day_ranges([]) == ""
