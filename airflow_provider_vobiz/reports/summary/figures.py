"""The summary's figures: DuckDB over the lake, with the metric definitions in ``reports/summary/sql/``.

``sql/cube.sql`` scans each day once, into a small table ``cube`` of counts and sums; ``sql/metrics.sql``
holds the formulas over it. Those two files are the metric definitions; this module only loads them, fills
in the report's settings and runs them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.reports.summary.config import SummaryConfig
from airflow_provider_vobiz.reports.summary.inputs import DayInput, open_dataset

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.fs as pafs

    from airflow_provider_vobiz.lake.paths import LakeLayout

log = logging.getLogger(__name__)

#: The lake columns the report reads (sql/cube.sql); a test checks this list against the SQL.
COLUMNS_READ: tuple[str, ...] = (
    "call_date",
    "call_direction",
    "billsec",
    "duration",
    "ring_time",
    "hangup_cause",
    "hangup_source",
    "codec",
    "mos",
    "jitter",
    "packet_loss",
    "start_time",
    "progress_time",
    "campaign_id",
    "caller_id_number",
    "destination_number",
    "trunk_id",
    "region",
    "cost",
    "total_cost",
    "streaming_cost",
)

#: String columns with few distinct values: read as dictionaries (cheaper to decode and to hand to DuckDB).
_DICTIONARY_COLUMNS = (
    "call_direction",
    "hangup_cause",
    "hangup_source",
    "codec",
    "campaign_id",
    "trunk_id",
    "region",
)


# -- the SQL files ----------------------------------------------------------------------------------------
def _sql(name: str) -> str:
    return resources.files("airflow_provider_vobiz.reports.summary").joinpath("sql", name).read_text()


def _named_blocks(name: str) -> dict[str, str]:
    """The ``-- name: x`` blocks of a SQL file, in order (``""`` is the text before the first name)."""
    chunks: dict[str, str] = {}
    current = ""
    for line in _sql(name).splitlines(keepends=True):
        m = re.match(r"^-- name: (\w+)", line)
        if m:
            current = m[1]
            continue
        chunks[current] = chunks.get(current, "") + line
    return chunks


def metric_queries() -> dict[str, str]:
    """The named queries of ``sql/metrics.sql`` (``""`` is the preamble that builds ``scoped``)."""
    return _named_blocks("metrics.sql")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def _inline(sql: str, values: Mapping[str, Any]) -> str:
    """Replace ``$name`` with a SQL literal of ``values[name]``.

    The day's projection is a view (DuckDB views take no prepared parameters); the values are the report's
    validated settings (a checked IANA zone, a compiled regex, integers), quoted as SQL literals.
    """

    def sub(m: re.Match[str]) -> str:
        if m[1] not in values:
            raise KeyError(f"SQL parameter ${m[1]} has no value")
        return _literal(values[m[1]])

    return re.sub(r"\$(\w+)", sub, sql)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


@dataclass(frozen=True)
class _CubeSql:
    """``sql/cube.sql``: the ``cube`` table, the day's projection (view ``c`` over ``cdr``), and the statements
    that add the day's rows of each grouping to ``cube``, in file order."""

    create: str
    day: str
    groupings: tuple[str, ...]

    @classmethod
    def load(cls) -> _CubeSql:
        blocks = _named_blocks("cube.sql")
        create, day = blocks.pop("create"), blocks.pop("day")
        blocks.pop("", None)
        return cls(create, day, tuple(blocks.values()))


# -- running them -----------------------------------------------------------------------------------------
def _utc_offset_minutes(tz: str, day: dt.date) -> tuple[bool, int]:
    """``(constant, minutes)``: the zone's UTC offset from the day before to the day after ``day``."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(tz)
    offsets = {
        dt.datetime.combine(day + dt.timedelta(days=k), dt.time(0), zone).utcoffset() for k in (-1, 0, 1, 2)
    }
    first = next(iter(offsets))
    return len(offsets) == 1, int(first.total_seconds() // 60)


def _settings(config: SummaryConfig) -> dict[str, Any]:
    """The SQL parameters the report's settings give (a day adds its UTC offset)."""
    start, end = config.window_minutes
    return {
        "tz": config.timezone,
        "win_start": start,
        "win_end": end,
        "short_seconds": config.ucc_short_seconds,
        "series_re": config.series_pattern,
    }


def _day_cube(
    fs: pafs.FileSystem,
    layout: LakeLayout,
    config: SummaryConfig,
    cube_sql: _CubeSql,
    day: DayInput,
) -> tuple[int, pa.Table]:
    """This day's calls and cube rows, from its own DuckDB connection (days run two at a time)."""
    import duckdb

    # A day's columns in Arrow (~180 MB per million calls), low-cardinality strings as dictionaries.
    table = open_dataset(fs, layout, [day], dictionary_columns=_DICTIONARY_COLUMNS).to_table(
        columns=list(COLUMNS_READ)
    )
    fixed, offset = _utc_offset_minutes(config.timezone, dt.date.fromisoformat(day.call_date))
    values = {**_settings(config), "offset_fixed": fixed, "utc_offset_min": offset}
    worker = duckdb.connect(config={"threads": 1})
    try:
        worker.execute(cube_sql.create)
        worker.register("cdr", table)
        worker.execute(_inline(cube_sql.day, values))
        for sql in cube_sql.groupings:
            worker.execute(_inline(sql, values))
        return table.num_rows, worker.sql("SELECT * FROM cube").to_arrow_table()
    finally:
        worker.close()


def _fill_cube(
    con: duckdb.DuckDBPyConnection,
    fs: pafs.FileSystem,
    layout: LakeLayout,
    inputs: Sequence[DayInput],
    config: SummaryConfig,
    cube_sql: _CubeSql,
    threads: int | None,
) -> None:
    """Add every present day's cube rows to ``con``'s ``cube``, logging the pace."""
    t0 = time.perf_counter()
    rows = 0
    days = [d for d in inputs if d.part_paths]
    one_day = partial(_day_cube, fs, layout, config, cube_sql)
    # Two days at a time (DuckDB and pyarrow release the GIL): memory is bounded by two days' columns.
    workers = max(1, min(2, threads or 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="summary-day") as pool:
        for i, (day, (day_rows, part)) in enumerate(zip(days, pool.map(one_day, days), strict=True)):
            con.register("day_cube", part)
            con.execute("INSERT INTO cube SELECT * FROM day_cube")
            con.unregister("day_cube")
            rows += day_rows
            elapsed = time.perf_counter() - t0
            log.info(
                "summary: day %d (%s) %d calls; %d calls in %.1f s (%.0f rows/s)",
                i + 1,
                day.call_date,
                day_rows,
                rows,
                elapsed,
                rows / elapsed if elapsed else 0,
            )


def compute_figures(
    fs: pafs.FileSystem,
    layout: LakeLayout,
    inputs: Sequence[DayInput],
    config: SummaryConfig,
    threads: int | None = None,
) -> dict[str, Any]:
    """Build ``cube`` one partition at a time (sql/cube.sql), then run the formulas (sql/metrics.sql).

    Returns plain rows per metric query name.
    """
    import duckdb
    import pyarrow as pa

    cube_sql = _CubeSql.load()
    values = _settings(config)
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        classes = pa.table(
            {
                "cause": pa.array(list(config.hangup_classes), pa.string()),
                "class": pa.array(list(config.hangup_classes.values()), pa.string()),
            }
        )
        con.register("hangup_classes", classes)
        con.execute(cube_sql.create)
        _fill_cube(con, fs, layout, inputs, config, cube_sql, threads)
        queries = metric_queries()
        con.execute(_inline(queries.pop(""), values))
        return {name: _rows(con, _inline(sql, values)) for name, sql in queries.items()}
    finally:
        con.close()
