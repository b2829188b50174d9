"""The TRAI summary report: traffic, quality and conduct of one account per IST day and per month.

Computed from the lake, never from the API (docs/architecture.md):

1. :func:`collect_inputs` reads each day's ``_manifest.json`` (the inputs an auditor needs: hashes, quality,
   rejects, reconciliation, restatements) and lists its parts. Days without a manifest are *missing*.
2. :func:`open_dataset` builds a ``pyarrow.dataset`` over exactly those part files (partition pruning by
   construction) on the lake's filesystem; DuckDB projects the columns it needs.
3. :func:`compute_figures` runs ``sql/cube.sql`` (one scan of each day, into a small table of counts and
   sums) and the formulas of ``sql/metrics.sql`` over it. Those two files are the metric definitions.
4. :func:`build_summary` assembles the JSON document; :func:`render_outputs` renders CSV/JSON (phone
   numbers as keyed HMAC tokens) and HTML/PDF (last four digits only) through :mod:`.render`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.cdr.window import (
    DEFAULT_REPULL_DAYS,
    FINAL,
    PROVISIONAL,
    local_today,
    settled_from,
    status_on,
    utc_now_iso,
)
from airflow_provider_vobiz.lake.manifest import QUALITY_STATUSES, manifest_sha256
from airflow_provider_vobiz.lake.paths import MANIFEST_NAME, REPORT_CONTENT_TYPES, REPORT_FORMATS, LakeLayout
from airflow_provider_vobiz.lake.records import quality_for
from airflow_provider_vobiz.privacy import NumberPolicy, mask_number
from airflow_provider_vobiz.reports import diagnose as diag
from airflow_provider_vobiz.reports.render import (
    REFERENCE_LABEL,
    Chart,
    Report,
    Section,
    Table,
    render_csv,
    render_html,
    render_json,
    render_pdf,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow.dataset as pads
    import pyarrow.fs as pafs

    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)

REPORT_NAME = "trai_summary"
REPORT_TITLE = "TRAI summary report"

#: Hangup classes (docs/summary.md, "What it contains"); any other cause is class K.
DEFAULT_HANGUP_CLASSES: dict[str, str] = {
    **dict.fromkeys(("USER_BUSY", "NO_ANSWER", "CALL_REJECTED", "REJECTED", "ORIGINATOR_CANCEL"), "U"),
    **dict.fromkeys(("INVALID_NUMBER", "UNALLOCATED_NUMBER"), "D"),
    **dict.fromkeys(
        (
            "SERVICE_UNAVAILABLE",
            "SERVER_ERROR",
            "MEDIA_TIMEOUT",
            "PROTOCOL_ERROR",
            "NETWORK_OUT_OF_ORDER",
            "DESTINATION_OUT_OF_ORDER",
            "NORMAL_TEMPORARY_FAILURE",
            "SWITCH_CONGESTION",
        ),
        "X",
    ),
}
HANGUP_CLASS_NAMES = {"U": "user-determined", "D": "number", "X": "network or platform", "K": "unknown/other"}
#: CLIs of the 140xx (promotional) and 1600/1601 (service, transactional) series, with or without +91 / 0.
DEFAULT_SERIES_PATTERN = r"^(\+91|0)?(140|160[01])"
#: Worst first: a day never validated ranks above one validated with warnings.
_QUALITY_RANK = {"passed": 0, "warning": 1, "pending": 2, "failed": 3}
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
_PERIOD_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PERIOD_MONTH = re.compile(r"^\d{4}-\d{2}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


@dataclass(frozen=True)
class SummaryConfig:
    """What the report's thresholds and conventions are (all stated in the report).

    :param timezone: the timezone of the calling-hours window (partitions are already days in it).
    :param calling_window: permitted local hours for promotional calls, ``("HH:MM", "HH:MM")``, [start, end).
    :param hangup_classes: ``cause -> U | D | X``; any other cause is K.
    :param campaigns_presumed_promotional: campaign calls are treated as promotional (calling hours, series).
    :param ucc_min_volume: a CLI is flagged only from this many outbound calls in a day.
    :param ucc_short_seconds: "short" answered calls last less than this.
    :param ucc_short_share: flag when the share of short answered calls is at least this.
    :param ucc_max_in_out_ratio: flag when inbound/outbound calls of the CLI is at most this.
    :param top_causes: how many hangup causes get a diagnosis in the report.
    """

    timezone: str = "Asia/Kolkata"
    calling_window: tuple[str, str] = ("10:00", "21:00")
    hangup_classes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HANGUP_CLASSES))
    campaigns_presumed_promotional: bool = True
    series_pattern: str = DEFAULT_SERIES_PATTERN
    ucc_min_volume: int = 100
    ucc_short_seconds: int = 10
    ucc_short_share: float = 0.5
    ucc_max_in_out_ratio: float = 0.05
    setup_success_reference: float = 0.98
    dropped_call_reference: float = 0.02
    top_causes: int = 5

    def __post_init__(self) -> None:
        start, end = (self._minutes(v) for v in self.calling_window)
        if start >= end:
            raise ValueError(f"calling_window start must be before end, got {self.calling_window!r}")
        bad = {c: k for c, k in self.hangup_classes.items() if k not in ("U", "D", "X", "K")}
        if bad:
            raise ValueError(f"hangup classes must be U, D, X or K; got {bad}")
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(self.timezone)
        except Exception:
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        re.compile(self.series_pattern)
        if self.ucc_short_seconds < 1 or self.ucc_min_volume < 1:
            raise ValueError("ucc_short_seconds and ucc_min_volume must be at least 1")

    @staticmethod
    def _minutes(hhmm: str) -> int:
        m = _HHMM.match(str(hhmm))
        if not m:
            raise ValueError(f"calling_window times must be HH:MM (00:00-24:00), got {hhmm!r}")
        return 24 * 60 if hhmm == "24:00" else int(m[1]) * 60 + int(m[2])

    @property
    def window_minutes(self) -> tuple[int, int]:
        return self._minutes(self.calling_window[0]), self._minutes(self.calling_window[1])

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SummaryConfig:
        """Build from a plain dict (operator params); unknown keys are an error, not silently ignored."""
        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown summary settings {unknown}; known: {sorted(known)}")
        if "calling_window" in values:
            values["calling_window"] = tuple(values["calling_window"])
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["calling_window"] = list(self.calling_window)
        d["hangup_classes"] = dict(sorted(self.hangup_classes.items()))
        return d


# -- period -----------------------------------------------------------------------------------------------
def parse_period(period: str) -> tuple[str, list[dt.date]]:
    """``"YYYY-MM-DD"`` -> ("day", [d]); ``"YYYY-MM"`` -> ("month", every day of the month)."""
    period = str(period).strip()
    try:
        if _PERIOD_DAY.match(period):
            return "day", [dt.date.fromisoformat(period)]
        if _PERIOD_MONTH.match(period):
            year, month = int(period[:4]), int(period[5:])
            n = calendar.monthrange(year, month)[1]
            return "month", [dt.date(year, month, d) for d in range(1, n + 1)]
    except ValueError:
        pass
    raise ValueError(f"period must be a day YYYY-MM-DD or a month YYYY-MM, got {period!r}")


def previous_month(day: dt.date) -> str:
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


# -- status: can the period still change? -----------------------------------------------------------------
def final_from(period: str, repull_days: int = DEFAULT_REPULL_DAYS) -> dt.date:
    """The first day (local) on which a report of ``period`` is ``final`` (:func:`cdr.window.settled_from`
    of its last day)."""
    _, days = parse_period(period)
    return settled_from(days[-1], repull_days)


def report_status(period: str, today: dt.date, repull_days: int = DEFAULT_REPULL_DAYS) -> str:
    """``final`` when no day of ``period`` is inside the re-pull window as of ``today`` (local), else
    ``provisional``."""
    _, days = parse_period(period)
    return status_on(days[-1], today, repull_days)


# -- inputs -----------------------------------------------------------------------------------------------
@dataclass
class DayInput:
    call_date: str
    manifest: dict[str, Any] | None
    manifest_sha256: str | None
    part_paths: list[str]
    #: The verdict of the manifest's content (lake.records; ``pending`` when none judged it).
    quality: dict[str, Any] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.manifest is not None


def _read_bytes(fs: pafs.FileSystem, path: str) -> bytes | None:
    import pyarrow.fs as pafs

    info = fs.get_file_info(path)
    if info.type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as f:
        return f.read()


def collect_inputs(
    fs: pafs.FileSystem, layout: LakeLayout, account_id: str, days: Sequence[dt.date]
) -> list[DayInput]:
    """Each day's manifest (and its sha256) and the part files it lists; a day with no manifest is missing.

    Paths are ``bucket/key`` as pyarrow's filesystems expect them.
    """
    import pyarrow.fs as pafs

    out = []
    for day in days:
        prefix = layout.partition_prefix(account_id, day)
        raw = _read_bytes(fs, f"{layout.bucket}/{prefix}{MANIFEST_NAME}")
        if raw is None:
            out.append(DayInput(day.isoformat(), None, None, []))
            continue
        manifest = json.loads(raw)
        listed = manifest.get("parts")
        if isinstance(listed, list):
            # The manifest's parts are the partition's content (their hashes make content_sha256).
            parts = []
            for part in listed:
                key = str(part["key"])
                key = key if "/" in key else prefix + key
                parts.append(f"{layout.bucket}/{key}")
        else:  # a manifest without a parts list: every part file under the prefix
            found = fs.get_file_info(pafs.FileSelector(f"{layout.bucket}/{prefix}", allow_not_found=True))
            parts = sorted(
                i.path for i in found if i.type == pafs.FileType.File and LakeLayout.is_part_key(i.path)
            )
        verdict = _read_bytes(fs, f"{layout.bucket}/{layout.verdict_key(account_id, day)}")
        quality = quality_for(manifest, json.loads(verdict) if verdict else None)
        out.append(DayInput(day.isoformat(), manifest, manifest_sha256(raw), parts, quality))
    return out


def open_dataset(
    fs: pafs.FileSystem,
    layout: LakeLayout,
    inputs: Sequence[DayInput],
    dictionary_columns: Sequence[str] = (),
) -> pads.Dataset:
    """A dataset over exactly the period's part files; ``account_id``/``call_date`` come from the paths."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    part_schema = pa.schema([("account_id", pa.string()), ("call_date", pa.string())])
    schema = pa.schema(list(FILE_SCHEMA) + list(part_schema))
    paths = [p for d in inputs for p in d.part_paths]
    if not paths:
        return pads.dataset(pa.table({f.name: pa.array([], f.type) for f in schema}, schema=schema))
    fmt = pads.ParquetFileFormat(
        read_options=pads.ParquetReadOptions(dictionary_columns=set(dictionary_columns))
    )
    if dictionary_columns:
        schema = pa.schema(
            [
                pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in dictionary_columns else f
                for f in schema
            ]
        )
    return pads.dataset(
        paths,
        schema=schema,
        filesystem=fs,
        format=fmt,
        partitioning=pads.partitioning(part_schema, flavor="hive"),
        partition_base_dir=f"{layout.bucket}/{layout.cdr_root}".rstrip("/"),
    )


# -- figures ----------------------------------------------------------------------------------------------
def _sql(name: str) -> str:
    return resources.files("airflow_provider_vobiz.reports").joinpath("sql", name).read_text()


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


def _utc_offset_minutes(tz: str, day: dt.date) -> tuple[bool, int]:
    """``(constant, minutes)``: the zone's UTC offset from the day before to the day after ``day``."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(tz)
    offsets = {
        dt.datetime.combine(day + dt.timedelta(days=k), dt.time(0), zone).utcoffset() for k in (-1, 0, 1, 2)
    }
    first = next(iter(offsets))
    return len(offsets) == 1, int(first.total_seconds() // 60)


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


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


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

    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        classes = pa.table(
            {
                "cause": pa.array(list(config.hangup_classes), pa.string()),
                "class": pa.array(list(config.hangup_classes.values()), pa.string()),
            }
        )
        con.register("hangup_classes", classes)
        start, end = config.window_minutes
        values = {
            "tz": config.timezone,
            "win_start": start,
            "win_end": end,
            "short_seconds": config.ucc_short_seconds,
            "series_re": config.series_pattern,
        }
        blocks = _named_blocks("cube.sql")
        create_sql = blocks.pop("create")
        con.execute(create_sql)
        day_sql = blocks.pop("day")
        blocks.pop("", None)
        t0 = time.perf_counter()
        rows = 0
        days = [d for d in inputs if d.part_paths]

        def one_day(day: DayInput) -> tuple[int, pa.Table]:
            """This day's cube rows, from its own DuckDB connection (days run two at a time)."""
            # A day's columns in Arrow (~180 MB per million calls), low-cardinality strings as dictionaries.
            table = open_dataset(fs, layout, [day], dictionary_columns=_DICTIONARY_COLUMNS).to_table(
                columns=list(COLUMNS_READ)
            )
            fixed, offset = _utc_offset_minutes(config.timezone, dt.date.fromisoformat(day.call_date))
            day_values = {**values, "offset_fixed": fixed, "utc_offset_min": offset}
            worker = duckdb.connect(config={"threads": 1})
            try:
                worker.execute(create_sql)
                worker.register("cdr", table)
                worker.execute(_inline(day_sql, day_values))
                for sql in blocks.values():
                    worker.execute(_inline(sql, day_values))
                return table.num_rows, worker.sql("SELECT * FROM cube").to_arrow_table()
            finally:
                worker.close()

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
        queries = metric_queries()
        con.execute(_inline(queries.pop(""), values))
        return {name: _rows(con, _inline(sql, values)) for name, sql in queries.items()}
    finally:
        con.close()


# -- the document -----------------------------------------------------------------------------------------
_ZERO_TRAFFIC = {
    "calls": 0,
    "answered": 0,
    "unanswered": 0,
    "billsec_sum": 0,
    "duration_sum": 0,
    "mou": 0.0,
    "false_answer_suspects": 0,
    "unanswered_u": 0,
    "unanswered_d": 0,
    "unanswered_x": 0,
    "unanswered_k": 0,
    "originator_cancel": 0,
    "dropped": 0,
    "cost": Decimal("0"),
    "total_cost": Decimal("0"),
    "streaming_cost": Decimal("0"),
}
_RATIOS = (
    "asr",
    "ner",
    "ner_excl_originator_cancel",
    "setup_success_proxy",
    "dropped_call_proxy",
    "acd_mean",
    "false_answer_share",
    "mos_mean",
    "mos_good_share",
    "mos_poor_share",
    "jitter_over_30ms_share",
    "packet_loss_over_1pct_share",
    "pdd_zero_share",
    "total_cost_per_answered_minute",
)
_QUANTILE_KEYS = {
    "acd": (("p50", "acd_median"), ("p90", "acd_p90")),
    "ring_time": (("p50", "ring_time_p50"), ("p95", "ring_time_p95")),
    "pdd_ms": (("p50", "pdd_ms_p50"), ("p95", "pdd_ms_p95")),
    "mos": (("p5", "mos_p5"),),
    "jitter": (("p95", "jitter_p95"),),
}


def _metrics(traffic: Mapping[str, Any] | None, quantiles: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    m: dict[str, Any] = dict(_ZERO_TRAFFIC)
    m.update(dict.fromkeys(_RATIOS))
    for keys in _QUANTILE_KEYS.values():
        m.update(dict.fromkeys(k for _, k in keys))
    if traffic:
        for k, v in traffic.items():
            if k in ("day", "direction"):
                continue
            m[k] = int(v) if isinstance(v, int) else v
    for measure, keys in _QUANTILE_KEYS.items():
        q = quantiles.get(measure)
        if q:
            for src, dst in keys:
                v = q[src]
                # Integer measures (seconds, milliseconds) stay integers.
                m[dst] = int(v) if v is not None and measure in ("acd", "ring_time", "pdd_ms") else v
    for k in ("cost", "total_cost", "streaming_cost"):
        m[k] = Decimal(m[k] if m[k] is not None else 0)
    return m


def _worst(statuses: Iterable[str]) -> str | None:
    ranked = [s for s in statuses if s]
    if not ranked:
        return None
    return max(ranked, key=lambda s: _QUALITY_RANK.get(s, len(_QUALITY_RANK)))


def build_summary(
    account_id: str,
    period: str,
    inputs: Sequence[DayInput],
    figures: Mapping[str, list[dict[str, Any]]],
    config: SummaryConfig,
    *,
    provider_version: str,
    generated_at: str,
    lake_uri: str = "",
    dag_run: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The summary document (raw phone numbers inside: tokenise with :func:`for_machines` before writing)."""
    kind, days = parse_period(period)
    present = [d for d in inputs if d.present]
    missing = [d.call_date for d in inputs if not d.present]
    quantiles: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for q in figures["quantiles"]:
        quantiles[(q["day"], q["direction"])][q["measure"]] = q
    traffic = {(t["day"], t["direction"]): t for t in figures["traffic"]}

    def scope(day: str) -> dict[str, Any]:
        return {
            direction: _metrics(traffic.get((day, direction)), quantiles.get((day, direction), {}))
            for direction in ("all", "inbound", "outbound")
        }

    by_day = []
    for d in inputs:
        entry: dict[str, Any] = {"call_date": d.call_date, "present": d.present}
        if d.present:
            s = scope(d.call_date)
            entry.update(s["all"])
            entry["by_direction"] = {k: s[k] for k in ("inbound", "outbound")}
        by_day.append(entry)
    period_scope = scope("period")
    totals = dict(period_scope["all"])

    hangups = _hangup_section(figures["hangup"], config)
    quality_days = {}
    for d in inputs:
        if not d.present:
            quality_days[d.call_date] = {"status": "missing"}
            continue
        m = d.manifest or {}
        status = d.quality.get("status") or "pending"
        if status not in QUALITY_STATUSES:
            status = "pending"
        quality_days[d.call_date] = {
            "status": status,
            "row_count": int(m.get("row_count") or 0),
            "rejects": int((m.get("rejects") or {}).get("count") or 0),
            "reconciliation": m.get("reconciliation"),
            "restatements": len(m.get("history") or []),
            "history": m.get("history") or [],
            "extracted_at": m.get("extracted_at"),
        }
    worst = _worst(q["status"] for q in quality_days.values() if q["status"] != "missing")
    ucc = _ucc_section(figures["ucc"], config)
    campaigns = _campaign_section(figures["campaigns"], config)

    return {
        "report": REPORT_NAME,
        "account_id": account_id,
        "period": period,
        "period_kind": kind,
        "timezone": config.timezone,
        "generated_at": generated_at,
        "provider_version": provider_version,
        "lake_uri": lake_uri,
        "days_expected": len(days),
        "days_present": len(present),
        "missing_days": missing,
        "totals": totals,
        "by_direction": {k: period_scope[k] for k in ("inbound", "outbound")},
        "by_day": by_day,
        "hangups": hangups,
        "codec_mix": _codec_section(figures["codec"]),
        "hours": [
            {
                "day": r["day"],
                "direction": r["direction"],
                "local_hour": int(r["local_hour"]),
                "calls": int(r["calls"] or 0),
                "answered": int(r["answered"] or 0),
            }
            for r in figures["hours"]
        ],
        "calling_hours": campaigns["calling_hours"],
        "number_series": campaigns["number_series"],
        "ucc": ucc,
        "cost": {"by_trunk_region": figures["cost"]},
        "quality": {"worst_status": worst or "missing", "days": quality_days},
        "references": {
            "label": REFERENCE_LABEL,
            "setup_success_proxy": config.setup_success_reference,
            "dropped_call_proxy": config.dropped_call_reference,
        },
        "config": config.as_dict(),
        "inputs": [
            {
                "call_date": d.call_date,
                "manifest_sha256": d.manifest_sha256,
                "content_sha256": (d.manifest or {}).get("content_sha256"),
                "row_count": int((d.manifest or {}).get("row_count") or 0),
                "parts": len(d.part_paths),
            }
            for d in present
        ],
        "dag_run": dict(dag_run) if dag_run else None,
    }


def _hangup_section(rows: list[dict[str, Any]], config: SummaryConfig) -> dict[str, Any]:
    """Counts by cause, class and source, per day and for the period (all directions)."""
    by_cause: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_class: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    answered_causes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r["direction"] != "all":
            continue
        n = int(r["calls"])
        by_cause[r["day"]][r["cause"]] += n
        by_source[r["day"]][r["source"]] += n
        by_class[r["day"]][r["class"] if not r["answered"] else "answered"] += n
        if r["answered"]:
            answered_causes[r["day"]][r["cause"]] += n
    period = by_cause.get("period", {})
    total = sum(period.values())
    top = sorted(period.items(), key=lambda kv: (-kv[1], kv[0]))[: config.top_causes]
    diagnoses = []
    for cause, n in top:
        # A blank cause (legal API data) is diagnosed as the documented UNKNOWN, never a failed report.
        d = diag.diagnose(hangup_cause=cause if str(cause or "").strip() else "UNKNOWN")
        diagnoses.append(
            {
                "cause": cause,
                "calls": n,
                "share": n / total if total else None,
                "class": config.hangup_classes.get(cause, "K"),
                "meaning": d.meaning,
                "likely_root_cause": d.likely_root_cause,
                "next_checks": d.next_checks,
            }
        )

    def plain(x: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
        return {day: dict(sorted(v.items())) for day, v in sorted(x.items())}

    return {
        "by_cause": plain(by_cause),
        "by_class": plain(by_class),
        "by_source": plain(by_source),
        "answered_by_cause": plain(answered_causes),
        "top_causes": diagnoses,
        "classes": {k: HANGUP_CLASS_NAMES[k] for k in ("U", "D", "X", "K")},
    }


def _codec_section(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        if r["direction"] == "all":
            out[r["day"]][r["codec"]] = int(r["answered"])
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def _campaign_section(rows: list[dict[str, Any]], config: SummaryConfig) -> dict[str, Any]:
    hours, series = [], []
    for r in rows:
        campaign = r["campaign"] or None
        promotional = campaign is not None and config.campaigns_presumed_promotional
        hours.append(
            {
                "day": r["day"],
                "campaign_id": campaign,
                "presumed_promotional": promotional,
                "outbound_calls": int(r["outbound_calls"]),
                "outside_window_answered": int(r["outside_answered"] or 0),
                "outside_window_unanswered": int(r["outside_unanswered"] or 0),
            }
        )
        if campaign is not None:
            n, bad = int(r["outbound_calls"]), int(r["not_series"] or 0)
            series.append(
                {
                    "day": r["day"],
                    "campaign_id": campaign,
                    "calls": n,
                    "not_series_calls": bad,
                    "not_series_share": bad / n if n else None,
                }
            )
    return {"calling_hours": hours, "number_series": series}


def _ucc_section(rows: list[dict[str, Any]], config: SummaryConfig) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        reasons = []
        volume = int(r["outbound_calls"])
        if volume >= config.ucc_min_volume:
            share = r["short_answered_share"]
            if share is not None and share >= config.ucc_short_share:
                reasons.append(f"short answered calls {share:.0%} >= {config.ucc_short_share:.0%}")
            if r["in_out_ratio"] <= config.ucc_max_in_out_ratio:
                reasons.append(f"in/out ratio {r['in_out_ratio']:.3f} <= {config.ucc_max_in_out_ratio}")
        out.append(
            {
                "day": r["day"],
                "cli": r["cli"],
                "outbound_calls": volume,
                "answered": int(r["answered"]),
                "short_answered": int(r["short_answered"]),
                "short_answered_share": r["short_answered_share"],
                "inbound_calls": int(r["inbound_calls"]),
                "in_out_ratio": r["in_out_ratio"],
                "flagged": bool(reasons),
                "reasons": reasons,
            }
        )
    return out


def _merge_keys(counts: Mapping[str, Any], text: Callable[[Any], Any]) -> dict[str, Any]:
    """``counts`` with each key through ``text``; keys that become equal (two numbers masked alike) add up."""
    out: dict[str, Any] = {}
    for k, v in counts.items():
        k2 = text(k)
        out[k2] = out[k2] + v if k2 in out else v
    return dict(sorted(out.items()))


def map_cdr_text(doc: dict[str, Any], text: Callable[[Any], Any]) -> dict[str, Any]:
    """Apply ``text`` to every CDR text value the document carries (in place; returns ``doc``).

    These are the values that come from the API's free-form fields (``hangup_cause``, ``hangup_source``,
    ``codec``, ``campaign_id``, ``trunk_id``, ``region``), as values or as keys. The phone field ``ucc[].cli``
    is not among them: callers treat it as a number.
    """
    h = doc["hangups"]
    for group in ("by_cause", "by_source", "answered_by_cause"):
        h[group] = {day: _merge_keys(counts, text) for day, counts in h[group].items()}
    for t in h["top_causes"]:
        t["cause"] = text(t["cause"])
        t["meaning"] = text(t["meaning"])
        t["likely_root_cause"] = [text(x) for x in t["likely_root_cause"]]
    doc["codec_mix"] = {day: _merge_keys(counts, text) for day, counts in doc["codec_mix"].items()}
    for r in (*doc["calling_hours"], *doc["number_series"]):
        r["campaign_id"] = text(r["campaign_id"])
    for r in doc["cost"]["by_trunk_region"]:
        r["trunk"], r["region"] = text(r["trunk"]), text(r["region"])
    return doc


def for_machines(summary: Mapping[str, Any], policy: NumberPolicy) -> dict[str, Any]:
    """A copy of the summary for CSV/JSON: every phone number, and every number-like run in the CDR's other
    text fields, as a keyed token (or raw, if the policy allows)."""
    doc = json.loads(json.dumps(summary, default=str))  # deep copy; Decimals become exact strings
    map_cdr_text(doc, policy.text_for_machines)
    for row in doc["ucc"]:
        row["cli"] = policy.for_machines(row["cli"])
    doc["phone_numbers"] = policy.describe()
    return doc


def for_people(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the summary for HTML/PDF: number-like runs in the CDR's text fields masked (the CLIs are
    masked where they are shown)."""
    return map_cdr_text(json.loads(json.dumps(summary, default=str)), NumberPolicy.text_for_people)


# -- rendering --------------------------------------------------------------------------------------------
CSV_COLUMNS = ["section", "call_date", "direction", "key", "metric", "value"]
_CSV_METRICS = (
    "calls",
    "answered",
    "unanswered",
    "mou",
    "asr",
    "ner",
    "ner_excl_originator_cancel",
    "setup_success_proxy",
    "dropped_call_proxy",
    "acd_mean",
    "acd_median",
    "acd_p90",
    "pdd_ms_p50",
    "pdd_ms_p95",
    "pdd_zero_share",
    "ring_time_p50",
    "ring_time_p95",
    "false_answer_suspects",
    "false_answer_share",
    "mos_mean",
    "mos_p5",
    "mos_good_share",
    "mos_poor_share",
    "jitter_p95",
    "jitter_over_30ms_share",
    "packet_loss_over_1pct_share",
    "unanswered_u",
    "unanswered_d",
    "unanswered_x",
    "unanswered_k",
    "originator_cancel",
    "dropped",
    "cost",
    "total_cost",
    "streaming_cost",
    "total_cost_per_answered_minute",
)


def summary_csv(doc: Mapping[str, Any]) -> bytes:
    """A tidy CSV of every figure: one row per (section, day, direction, key, metric)."""
    rows: list[list[Any]] = []

    def metrics(day: str, direction: str, m: Mapping[str, Any]) -> None:
        rows.extend(["traffic", day, direction, "", k, m.get(k)] for k in _CSV_METRICS)

    for direction, m in (("all", doc["totals"]), *doc["by_direction"].items()):
        metrics("period", direction, m)
    for d in doc["by_day"]:
        if not d["present"]:
            rows.append(["coverage", d["call_date"], "all", "", "missing", True])
            continue
        metrics(d["call_date"], "all", d)
        for direction, m in d["by_direction"].items():
            metrics(d["call_date"], direction, m)
    for group in ("by_cause", "by_class", "by_source"):
        for day, counts in doc["hangups"][group].items():
            rows.extend([f"hangup_{group[3:]}", day, "all", k, "calls", v] for k, v in counts.items())
    for day, counts in doc["codec_mix"].items():
        rows.extend(["codec", day, "all", k, "answered", v] for k, v in counts.items())
    for r in doc["calling_hours"]:
        key = r["campaign_id"] or "(no campaign)"
        for k in ("outbound_calls", "outside_window_answered", "outside_window_unanswered"):
            rows.append(["calling_hours", r["day"], "outbound", key, k, r[k]])
    for r in doc["number_series"]:
        for k in ("calls", "not_series_calls", "not_series_share"):
            rows.append(["number_series", r["day"], "outbound", r["campaign_id"], k, r[k]])
    for r in doc["ucc"]:
        for k in (
            "outbound_calls",
            "answered",
            "short_answered_share",
            "inbound_calls",
            "in_out_ratio",
            "flagged",
        ):
            rows.append(["ucc", r["day"], "outbound", r["cli"], k, r[k]])
    for r in doc["cost"]["by_trunk_region"]:
        key = f"{r['trunk']}|{r['region']}"
        for k in ("calls", "cost", "total_cost", "streaming_cost", "total_cost_per_answered_minute"):
            rows.append(["cost", r["day"], "all", key, k, r[k]])
    for day, q in doc["quality"]["days"].items():
        for k in ("status", "rejects", "restatements"):
            if k in q:
                rows.append(["data_quality", day, "all", "", k, q[k]])
    period = doc["period"]
    rows.append(["report", period, "all", "", "status", doc.get("status")])
    rows.append(["report", period, "all", "", "version", doc.get("version", 1)])
    for v in doc.get("supersedes") or []:
        rows.append(["report", period, "all", f"version {v['version']}", "superseded_sha256", v["sha256"]])
    return render_csv(CSV_COLUMNS, rows)


def _day_ranges(days: Sequence[str]) -> str:
    """``["2026-10-03", "2026-10-07", "2026-10-08", "2026-10-09"]`` -> ``"2026-10-03, 2026-10-07 to 2026-10-09"``."""
    out: list[str] = []
    run: list[dt.date] = []
    for d in sorted(dt.date.fromisoformat(x) for x in days):
        if run and d != run[-1] + dt.timedelta(days=1):
            out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]} to {run[-1]}")
            run = []
        run.append(d)
    if run:
        out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]} to {run[-1]}")
    return ", ".join(out)


def _pct(v: Any) -> str:
    return "–" if v is None else f"{float(v) * 100:.2f}%"


def _num(v: Any, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{float(v):,.{digits}f}"


def _money(v: Any) -> str:
    return "–" if v is None else f"₹{Decimal(str(v)):,.2f}"


def summary_report(doc: Mapping[str, Any]) -> Report:
    """The human-readable report (phone numbers masked to their last four digits)."""
    totals = doc["totals"]
    kind = doc["period_kind"]
    refs = doc["references"]
    notices = []
    status = doc.get("status") or FINAL
    rule = doc.get("status_rule") or {}
    if status == PROVISIONAL:
        notices.append(
            f"PROVISIONAL: days of this period are still inside the ingest's re-pull window "
            f"({rule.get('repull_days', '?')} days), so late CDRs can still change them. The report is regenerated "
            f"when they do, and is final from {rule.get('final_from', '?')}."
        )
    if doc.get("supersedes"):
        last = doc["supersedes"][0]
        notices.append(
            f"Version {doc.get('version')}: supersedes version {last['version']} of {last['generated_at']} "
            f"({last['reason']}). Earlier versions are listed under Versions."
        )
    if doc["missing_days"]:
        notices.append(
            f"{len(doc['missing_days'])} of {doc['days_expected']} days have no partition in the lake "
            f"(missing: {_day_ranges(doc['missing_days'])}); figures cover only the days present."
        )
    failed = [d for d, q in doc["quality"]["days"].items() if q["status"] == "failed"]
    if failed:
        notices.append(f"Data quality failed on: {', '.join(failed)}.")
    pending = [d for d, q in doc["quality"]["days"].items() if q["status"] == "pending"]
    if pending:
        notices.append(f"Data quality not yet validated on: {', '.join(pending)}.")

    meta = [
        (
            "Status",
            f"{status.upper()}"
            + (f" (final from {rule.get('final_from')})" if status == PROVISIONAL else "")
            + f", version {doc.get('version', 1)}",
        ),
        ("Period kind", f"{kind} (IST days of start_time, timezone {doc['timezone']})"),
        ("Days present", f"{doc['days_present']} of {doc['days_expected']}"),
        ("Lake", doc.get("lake_uri") or "–"),
        (
            "Inputs",
            f"{len(doc['inputs'])} partition(s) of {doc['account_id']}; manifest and content hashes under Inputs",
        ),
        ("Data quality (worst day)", doc["quality"]["worst_status"]),
        ("Phone numbers", "last four digits only"),
        (
            "DAG run",
            f"{doc['dag_run']['dag_id']} / {doc['dag_run']['run_id']}" if doc.get("dag_run") else "–",
        ),
    ]
    directions = [("All", totals), *((k.capitalize(), v) for k, v in doc["by_direction"].items())]

    def row(label: str, key: str, fmt, ref: str = "") -> list[Any]:
        return [label, *(fmt(m.get(key)) for _, m in directions), ref]

    cols = ["Metric", *(d for d, _ in directions), REFERENCE_LABEL]
    overview = Table(
        cols,
        [
            row("Calls (N)", "calls", _num),
            row("Answered (A)", "answered", _num),
            row("Minutes of use", "mou", _num),
            row("ASR = A / N", "asr", _pct),
            row("NER = (A + U) / N", "ner", _pct),
            row("NER without ORIGINATOR_CANCEL", "ner_excl_originator_cancel", _pct),
            row(
                "Setup-success proxy = (N − X) / N",
                "setup_success_proxy",
                _pct,
                f"≥ {refs['setup_success_proxy']:.0%}",
            ),
            row(
                "Dropped-call proxy = answered X / A",
                "dropped_call_proxy",
                _pct,
                f"≤ {refs['dropped_call_proxy']:.0%}",
            ),
            row("ACD mean (s)", "acd_mean", _num),
            row("ACD median (s)", "acd_median", _num),
            row("ACD p90 (s)", "acd_p90", _num),
            row("PDD proxy p50 (ms)", "pdd_ms_p50", _num),
            row("PDD proxy p95 (ms)", "pdd_ms_p95", _num),
            row("Ring time p50 (s)", "ring_time_p50", _num),
            row("Ring time p95 (s)", "ring_time_p95", _num),
            row("False-answer suspects", "false_answer_suspects", _num),
            row("False-answer suspects / A", "false_answer_share", _pct),
        ],
        caption="Traffic and accessibility, whole period",
    )
    quality = Table(
        cols[:-1],
        [
            row("MOS mean", "mos_mean", _num)[:-1],
            row("MOS p5", "mos_p5", _num)[:-1],
            row("Answered with MOS ≥ 3.6", "mos_good_share", _pct)[:-1],
            row("Answered with MOS < 3.5", "mos_poor_share", _pct)[:-1],
            row("Jitter p95 (ms)", "jitter_p95", _num)[:-1],
            row("Answered with jitter > 30 ms", "jitter_over_30ms_share", _pct)[:-1],
            row("Answered with packet loss > 1%", "packet_loss_over_1pct_share", _pct)[:-1],
        ],
        caption="Voice quality (answered calls), whole period",
    )
    present_days = [d for d in doc["by_day"] if d["present"]]
    labels = [d["call_date"][5:] for d in present_days]
    daily = Table(
        [
            "Day",
            "Calls",
            "Answered",
            "MOU",
            "ASR",
            "NER",
            "Setup proxy",
            "Drop proxy",
            "ACD",
            "MOS",
            "Quality",
        ],
        [
            [
                d["call_date"],
                _num(d["calls"]),
                _num(d["answered"]),
                _num(d["mou"]),
                _pct(d["asr"]),
                _pct(d["ner"]),
                _pct(d["setup_success_proxy"]),
                _pct(d["dropped_call_proxy"]),
                _num(d["acd_mean"]),
                _num(d["mos_mean"]),
                doc["quality"]["days"][d["call_date"]]["status"],
            ]
            if d["present"]
            else [d["call_date"], "missing", "", "", "", "", "", "", "", "", "missing"]
            for d in doc["by_day"]
        ],
        caption="Per day (all directions)",
    )
    sections = [
        Section(
            "Overview",
            paragraphs=[
                "Figures come from the Parquet lake (never the API), one row per call (uuid), grouped by the IST "
                "day of start_time. References are shown for context; they are obligations on the licensed "
                "operator's network, and these CDR-based proxies do not establish compliance.",
            ],
            tables=[overview],
        ),
        Section(
            "Per day",
            tables=[daily],
            charts=[
                Chart(
                    "bar",
                    "Calls and answered calls per day",
                    labels,
                    {
                        "calls": [d["calls"] for d in present_days],
                        "answered": [d["answered"] for d in present_days],
                    },
                    "calls",
                ),
                Chart(
                    "line",
                    "ASR and NER per day (%)",
                    labels,
                    {
                        "ASR": [_p(d["asr"]) for d in present_days],
                        "NER": [_p(d["ner"]) for d in present_days],
                    },
                    "%",
                ),
                Chart(
                    "line",
                    "Setup-success proxy per day (%)",
                    labels,
                    {"setup-success proxy": [_p(d["setup_success_proxy"]) for d in present_days]},
                    "%",
                    (
                        refs["setup_success_proxy"] * 100,
                        f"{REFERENCE_LABEL}: {refs['setup_success_proxy']:.0%}",
                    ),
                ),
                Chart(
                    "line",
                    "Dropped-call proxy per day (%)",
                    labels,
                    {"dropped-call proxy": [_p(d["dropped_call_proxy"]) for d in present_days]},
                    "%",
                    (
                        refs["dropped_call_proxy"] * 100,
                        f"{REFERENCE_LABEL}: {refs['dropped_call_proxy']:.0%}",
                    ),
                ),
            ],
        ),
        _quality_section(doc, quality, present_days, labels),
        _hangup_report_section(doc, present_days, labels),
        _calling_hours_section(doc),
        _ucc_report_section(doc),
        _cost_section(doc),
        _data_quality_section(doc),
        _inputs_section(doc),
        _versions_section(doc),
        _method_section(doc),
    ]
    return Report(
        title=REPORT_TITLE,
        account_id=doc["account_id"],
        period_label=doc["period"],
        generated_at=doc["generated_at"],
        provider_version=doc["provider_version"],
        notices=notices,
        meta=meta,
        sections=sections,
    )


def _p(v: Any) -> float:
    return 0.0 if v is None else float(v) * 100


def _quality_section(doc, table: Table, present_days, labels) -> Section:
    codecs = doc["codec_mix"].get("period", {})
    total = sum(codecs.values())
    codec_table = Table(
        ["Codec", "Answered calls", "Share"],
        [[c, _num(n), _pct(n / total if total else None)] for c, n in codecs.items()],
        caption="Codec mix (answered calls)",
    )
    return Section(
        "Voice quality",
        paragraphs=[
            "MOS bands (ITU-T G.107): ≥ 4.34 very satisfied, ≥ 3.60 some users dissatisfied; no TRAI MOS benchmark was found."
        ],
        tables=[table, codec_table],
        charts=[
            Chart(
                "line",
                "MOS per day (mean and p5)",
                labels,
                {
                    "mean": [d["mos_mean"] or 0 for d in present_days],
                    "p5": [d["mos_p5"] or 0 for d in present_days],
                },
                "MOS",
            )
        ],
    )


def _hangup_report_section(doc, present_days, labels) -> Section:
    h = doc["hangups"]
    period_causes = h["by_cause"].get("period", {})
    total = sum(period_causes.values())
    cause_rows = [
        [c, doc["config"]["hangup_classes"].get(c, "K"), _num(n), _pct(n / total if total else None)]
        for c, n in sorted(period_causes.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    classes = h["by_class"].get("period", {})
    class_rows = [
        [k, h["classes"].get(k, "answered calls"), _num(n), _pct(n / total if total else None)]
        for k, n in sorted(classes.items())
    ]
    sources = h["by_source"].get("period", {})
    source_rows = [
        [s, _num(n), _pct(n / total if total else None)]
        for s, n in sorted(sources.items(), key=lambda kv: -kv[1])
    ]
    diag_rows = [
        [
            t["cause"],
            _num(t["calls"]),
            t["meaning"],
            " ".join(t["likely_root_cause"][:2]),
            "; ".join(t["next_checks"][:3]),
        ]
        for t in h["top_causes"]
    ]
    series_keys = ["answered", "U", "D", "X", "K"]
    stacked = {
        k: [h["by_class"].get(d["call_date"], {}).get(k, 0) for d in present_days] for k in series_keys
    }
    return Section(
        "Hangup attribution",
        paragraphs=[
            "Classes (configurable): U user-determined, D number, X network or platform, K unknown; answered calls shown apart."
        ],
        tables=[
            Table(["Cause", "Class", "Calls", "Share"], cause_rows, caption="By hangup_cause"),
            Table(
                ["Class", "Meaning", "Calls", "Share"],
                class_rows,
                caption="By class (unanswered calls) and answered",
            ),
            Table(["hangup_source", "Calls", "Share"], source_rows, caption="By hangup_source (who hung up)"),
            Table(
                ["Cause", "Calls", "Meaning", "Likely root cause", "What to check"],
                diag_rows,
                caption="Diagnosis of the top causes",
            ),
        ],
        charts=[Chart("stacked_bar", "Calls per day by outcome class", labels, stacked, "calls")],
    )


def _calling_hours_section(doc) -> Section:
    start, end = doc["config"]["calling_window"]
    rows = [
        [
            r["campaign_id"] or "(no campaign)",
            "yes" if r["presumed_promotional"] else "no",
            _num(r["outbound_calls"]),
            _num(r["outside_window_answered"]),
            _num(r["outside_window_unanswered"]),
        ]
        for r in doc["calling_hours"]
        if r["day"] == "period"
    ]
    series_rows = [
        [r["campaign_id"], _num(r["calls"]), _num(r["not_series_calls"]), _pct(r["not_series_share"])]
        for r in doc["number_series"]
        if r["day"] == "period"
    ]
    hours = [r for r in doc["hours"] if r["day"] == "period" and r["direction"] == "outbound"]
    per_hour = {int(r["local_hour"]): int(r["calls"]) for r in hours}
    return Section(
        "Calling hours and number series (TCCCPR)",
        paragraphs=[
            f"Outbound calls started outside {start}–{end} {doc['timezone']} (configurable window; "
            f"{REFERENCE_LABEL}). Campaign traffic is presumed promotional (configurable).",
            "Number series: share of campaign calls whose CLI is not in the 140xx (promotional) or 1600/1601 "
            "(service/transactional) series; 10-digit numbers are banned for telemarketing (TCCCPR amendment, Feb 2025).",
        ],
        tables=[
            Table(
                [
                    "Campaign",
                    "Promotional",
                    "Outbound calls",
                    "Outside window, answered",
                    "Outside window, unanswered",
                ],
                rows,
                caption="Calls outside the window, per campaign",
            ),
            Table(
                ["Campaign", "Calls", "Not 140xx/1600/1601", "Share"],
                series_rows,
                caption="Number series of campaign CLIs",
            ),
        ],
        charts=[
            Chart(
                "bar",
                f"Outbound calls per hour of day ({doc['timezone']})",
                [f"{h:02d}" for h in range(24)],
                {"outbound calls": [per_hour.get(h, 0) for h in range(24)]},
                "calls",
            )
        ],
    )


def _ucc_report_section(doc) -> Section:
    cfg = doc["config"]
    flagged = [r for r in doc["ucc"] if r["flagged"] and r["day"] != "period"]
    period = [r for r in doc["ucc"] if r["day"] == "period"]
    rows = [
        [
            mask_number(r["cli"]),
            _num(r["outbound_calls"]),
            _pct(r["short_answered_share"]),
            _num(r["inbound_calls"]),
            _num(r["in_out_ratio"], 3),
            str(sum(1 for f in flagged if f["cli"] == r["cli"])),
        ]
        for r in period
    ]
    return Section(
        "UCC risk per outbound CLI",
        paragraphs=[
            f"Operators must flag high volumes, short calls and low incoming-to-outgoing ratios (TCCCPR). Thresholds "
            f"(configurable, no TRAI numeric threshold was found): a CLI-day is flagged from {cfg['ucc_min_volume']} "
            f"outbound calls when answered calls under {cfg['ucc_short_seconds']} s are ≥ {cfg['ucc_short_share']:.0%} "
            f"or inbound/outbound ≤ {cfg['ucc_max_in_out_ratio']}."
        ],
        tables=[
            Table(
                [
                    "CLI",
                    "Outbound calls",
                    f"Answered < {cfg['ucc_short_seconds']} s",
                    "Inbound calls",
                    "In/out ratio",
                    "Days flagged",
                ],
                rows,
                caption="Whole period, per CLI (numbers masked)",
            )
        ],
    )


def _cost_section(doc) -> Section:
    t = doc["totals"]
    rows = [
        [
            r["trunk"],
            r["region"],
            _num(int(r["calls"])),
            _money(r["total_cost"]),
            _money(r["cost"]),
            _money(r["streaming_cost"]),
            _money(r["total_cost_per_answered_minute"]),
        ]
        for r in doc["cost"]["by_trunk_region"]
        if r["day"] == "period"
    ]
    return Section(
        "Cost (INR)",
        paragraphs=[
            f"total_cost {_money(t['total_cost'])}, cost {_money(t['cost'])}, streaming_cost {_money(t['streaming_cost'])}, "
            f"per answered minute {_money(t['total_cost_per_answered_minute'])}."
        ],
        tables=[
            Table(
                ["Trunk", "Region", "Calls", "total_cost", "cost", "streaming_cost", "per answered minute"],
                rows,
                caption="By trunk and region",
            )
        ],
    )


def _data_quality_section(doc) -> Section:
    rows = []
    for day, q in doc["quality"]["days"].items():
        if q["status"] == "missing":
            rows.append([day, "missing", "", "", "", ""])
            continue
        rec = q.get("reconciliation") or {}
        recon = (
            "–" if not rec else f"api_total {rec.get('api_total', '–')}, matched {rec.get('matched', '–')}"
        )
        rows.append(
            [day, q["status"], _num(q["row_count"]), _num(q["rejects"]), recon, _num(q["restatements"])]
        )
    return Section(
        "Data quality",
        paragraphs=[f"Worst status over the period: {doc['quality']['worst_status']}."],
        tables=[
            Table(
                ["Day", "Quality", "Rows", "Quarantined", "Reconciliation", "Restatements"],
                rows,
                caption="Per partition",
            )
        ],
    )


def _versions_section(doc) -> Section:
    rows = [
        [
            str(v["version"]),
            v.get("generated_at") or "–",
            v.get("status") or "–",
            v["reason"],
            v["sha256"],
            v["path"],
        ]
        for v in doc.get("supersedes") or []
    ]
    return Section(
        "Versions",
        paragraphs=[
            f"This is version {doc.get('version', 1)} of the report for {doc['period']}. A report is regenerated when a "
            "day of its period is restated or published late, when a quality verdict changes, and when it turns "
            "from provisional to final; each superseded version stays in the lake at its path, and its sha256 is "
            "that of its JSON file's bytes."
        ],
        tables=[Table(["Version", "Generated at", "Status", "Why superseded", "JSON sha256", "Path"], rows)]
        if rows
        else [],
    )


def _inputs_section(doc) -> Section:
    rows = [
        [
            i["call_date"],
            _num(i["row_count"]),
            str(i["parts"]),
            i["manifest_sha256"],
            i["content_sha256"] or "–",
        ]
        for i in doc["inputs"]
    ]
    return Section(
        "Inputs",
        paragraphs=[
            "The partitions this report was computed from. manifest sha256 is the hash of the partition's "
            "_manifest.json as read; content sha256 is the manifest's hash over its Parquet parts. Re-running the "
            "report on the same inputs gives the same figures."
        ],
        tables=[Table(["call_date", "Rows", "Parts", "manifest sha256", "content sha256"], rows)],
    )


def _method_section(doc) -> Section:
    return Section(
        "Method",
        paragraphs=[
            "N = calls (one row per uuid); A = answered (billsec > 0); U/D/X = unanswered calls of each class. "
            "MOU = Σbillsec / 60. ACD = Σbillsec / A. Percentiles are nearest-rank. PDD proxy = progress_time − "
            "start_time (check it carries signal: the share of zero values is reported). False-answer suspects = "
            "answered calls with ring_time = 0 or billsec = duration.",
            "Every formula is SQL in airflow_provider_vobiz/reports/sql/cube.sql (the one scan of the lake) and "
            "sql/metrics.sql (the formulas).",
            "Settings: "
            + "; ".join(
                f"{k} = {v}" for k, v in doc["config"].items() if k not in ("hangup_classes", "top_causes")
            )
            + ".",
            "Hangup classes: "
            + "; ".join(
                f"{k}: {', '.join(sorted(c for c, v in doc['config']['hangup_classes'].items() if v == k))}"
                for k in ("U", "D", "X")
            )
            + "; K: any other cause.",
            f"Generated by airflow-provider-vobiz {doc['provider_version']} at {doc['generated_at']}.",
        ],
    )


def render_outputs(summary: Mapping[str, Any], policy: NumberPolicy) -> dict[str, bytes]:
    """All four formats: ``{"json", "csv", "html", "pdf"}`` -> bytes."""
    machine = for_machines(summary, policy)
    report = summary_report(for_people(summary))
    return {
        "json": render_json(machine),
        "csv": summary_csv(machine),
        "html": render_html(report),
        "pdf": render_pdf(report),
    }


# -- entry point ------------------------------------------------------------------------------------------


def generate(
    fs: pafs.FileSystem,
    layout: LakeLayout,
    account_id: str,
    period: str,
    *,
    config: SummaryConfig | None = None,
    provider_version: str | None = None,
    generated_at: str | None = None,
    dag_run: Mapping[str, str] | None = None,
    threads: int | None = None,
    repull_days: int = DEFAULT_REPULL_DAYS,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Compute the summary document of one account and period from the lake (no rendering).

    :param repull_days: the ingest's re-pull window, which decides ``status`` (:func:`report_status`).
    :param today: the local day the report is made on (default: now, in the report's timezone).
    """
    from airflow_provider_vobiz import __version__

    config = config or SummaryConfig()
    _, days = parse_period(period)
    t0 = time.perf_counter()
    inputs = collect_inputs(fs, layout, account_id, days)
    log.info(
        "summary %s %s: %d of %d days present, %d part files",
        account_id,
        period,
        sum(d.present for d in inputs),
        len(days),
        sum(len(d.part_paths) for d in inputs),
    )
    figures = compute_figures(fs, layout, inputs, config, threads=threads)
    summary = build_summary(
        account_id,
        period,
        inputs,
        figures,
        config,
        provider_version=provider_version or __version__,
        generated_at=generated_at or utc_now_iso(),
        lake_uri=layout.uri,
        dag_run=dag_run,
    )
    today = today or local_today(config.timezone)
    summary["status"] = report_status(period, today, repull_days)
    summary["status_rule"] = {
        "repull_days": repull_days,
        "as_of": today.isoformat(),
        "final_from": final_from(period, repull_days).isoformat(),
    }
    summary.setdefault("version", 1)
    summary.setdefault("supersedes", [])
    log.info("summary %s %s computed in %.2f s", account_id, period, time.perf_counter() - t0)
    return summary


def why_superseded(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """Why ``new`` supersedes ``old`` (both summary documents), or None when it states the same thing:
    the same inputs (manifest hashes), quality verdicts, status and settings."""
    reasons = []
    old_inputs = {i["call_date"]: i for i in old.get("inputs") or []}
    new_inputs = {i["call_date"]: i for i in new.get("inputs") or []}
    for day in sorted(set(old_inputs) | set(new_inputs)):
        o, n = old_inputs.get(day), new_inputs.get(day)
        if o is None:
            reasons.append(f"{day} published since")
        elif n is None:
            reasons.append(f"{day} no longer in the lake")
        elif o.get("manifest_sha256") != n.get("manifest_sha256"):
            reasons.append(
                f"{day} restated (manifest {o.get('manifest_sha256')} -> {n.get('manifest_sha256')}, "
                f"rows {o.get('row_count')} -> {n.get('row_count')})"
            )
    old_q = (old.get("quality") or {}).get("days") or {}
    new_q = (new.get("quality") or {}).get("days") or {}
    for day in sorted(set(old_q) & set(new_q)):
        if old_q[day].get("status") != new_q[day].get("status") and day in new_inputs and day in old_inputs:
            reasons.append(f"{day} quality {old_q[day].get('status')} -> {new_q[day].get('status')}")
    if old.get("status") != new.get("status"):
        reasons.append(f"status {old.get('status') or 'not stated'} -> {new.get('status')}")
    if old.get("config") != new.get("config"):
        reasons.append("report settings changed")
    return "; ".join(reasons) or None


def supersede(storage: LakeStorage, layout: LakeLayout, summary: dict[str, Any]) -> dict[str, str]:
    """Compare ``summary`` with the report already published for its period and record the lineage.

    When the new one states something else (:func:`why_superseded`), ``summary`` gets ``version`` (the old
    one's + 1) and ``supersedes``: the old version first (``version``, ``path`` of its archived JSON,
    ``sha256`` of that JSON's bytes, ``generated_at``, ``status``, ``reason``), then the versions it
    superseded. A re-run that states the same thing replaces the report in place and keeps its lineage.

    :returns: ``{current key: archive key}`` for :func:`publish` to copy before it overwrites.
    """
    account_id, period = summary["account_id"], summary["period"]
    raw = storage.get_bytes_or_none(layout.summary_report_key(account_id, period, "json"))
    if raw is None:
        summary["version"], summary["supersedes"] = 1, []
        return {}
    old = json.loads(raw)
    reason = why_superseded(old, summary)
    lineage = list(old.get("supersedes") or [])
    if reason is None:
        summary["version"], summary["supersedes"] = int(old.get("version") or 1), lineage
        return {}
    digest = hashlib.sha256(raw).hexdigest()
    archive = {
        layout.summary_report_key(account_id, period, ext): layout.summary_report_archive_key(
            account_id, period, digest, ext
        )
        for ext in REPORT_FORMATS
    }
    summary["version"] = int(old.get("version") or 1) + 1
    summary["supersedes"] = [
        {
            "version": int(old.get("version") or 1),
            "path": layout.s3_uri(layout.summary_report_archive_key(account_id, period, digest, "json")),
            "sha256": digest,
            "generated_at": old.get("generated_at"),
            "status": old.get("status"),
            "reason": reason,
        },
        *lineage,
    ]
    return archive


def publish(
    storage: LakeStorage,
    layout: LakeLayout,
    summary: Mapping[str, Any],
    outputs: Mapping[str, bytes],
    archive: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Write each format to ``{lake}/reports/trai_summary/...``; JSON last, so its presence means complete.

    :param archive: ``{key: archive key}`` from :func:`supersede`: the superseded version is copied there
        first, so it is never lost, whatever happens after.
    """
    for src, dst in (archive or {}).items():
        if storage.exists(src):
            storage.copy(src, dst)
    keys = {}
    for ext in sorted(outputs, key=lambda e: e == "json"):
        key = layout.summary_report_key(summary["account_id"], summary["period"], ext)
        storage.put_bytes(key, outputs[ext], content_type=REPORT_CONTENT_TYPES[ext])
        keys[ext] = layout.s3_uri(key)
    return keys


def run_summary(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    period: str,
    policy: NumberPolicy,
    *,
    formats: Sequence[str] = REPORT_FORMATS,
    **generate_kwargs: Any,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Generate, supersede, render and publish one report: ``(document, {format: s3 uri})``."""
    doc = generate(storage.filesystem, layout, account_id, period, **generate_kwargs)
    archive = supersede(storage, layout, doc)
    outputs = {k: v for k, v in render_outputs(doc, policy).items() if k in formats}
    return doc, publish(storage, layout, doc, outputs, archive)


def refresh_reason(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    period: str,
    *,
    config: SummaryConfig | None = None,
    repull_days: int = DEFAULT_REPULL_DAYS,
    today: dt.date | None = None,
) -> str | None:
    """Why the published report of ``period`` no longer states the lake (a day restated or published,
    a verdict changed, provisional turned final), or None: also None when there is no such report (a
    month's report is made by its own run, never by a refresh)."""
    raw = storage.get_bytes_or_none(layout.summary_report_key(account_id, period, "json"))
    if raw is None:
        return None
    old = json.loads(raw)
    config = config or SummaryConfig()
    _, days = parse_period(period)
    inputs = [d for d in collect_inputs(storage.filesystem, layout, account_id, days) if d.present]
    today = today or local_today(config.timezone)
    now = {
        "inputs": [
            {
                "call_date": d.call_date,
                "manifest_sha256": d.manifest_sha256,
                "row_count": int((d.manifest or {}).get("row_count") or 0),
            }
            for d in inputs
        ],
        "quality": {"days": {d.call_date: {"status": d.quality.get("status") or "pending"} for d in inputs}},
        "status": report_status(period, today, repull_days),
        "config": old.get("config"),
    }
    return why_superseded(old, now)


def stale_reports(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    days: Iterable[str],
    *,
    repull_days: int = DEFAULT_REPULL_DAYS,
    today: dt.date | None = None,
    config: SummaryConfig | None = None,
) -> list[tuple[str, str]]:
    """``(period, why)`` for each published report that no longer states the lake, oldest first:

    - the month reports of ``days`` (days just restated or published, whose own reports are being made);
    - the month report of the month before ``today``, which turns final early in the month;
    - the daily reports of the days that turned final in the last three days (``today - repull_days - 2``
      and the two days before, so a missed run catches up).

    A period without a report is left alone: the daily and monthly runs make first versions.
    """
    config = config or SummaryConfig()
    today = today or local_today(config.timezone)
    given = {str(d) for d in days}
    periods = {d[:7] for d in given} | {previous_month(today)}
    newly_final = today - dt.timedelta(days=repull_days + 2)
    periods |= {(newly_final - dt.timedelta(days=i)).isoformat() for i in range(3)} - given
    out = []
    for period in sorted(periods):
        why = refresh_reason(
            storage, layout, account_id, period, config=config, repull_days=repull_days, today=today
        )
        if why:
            out.append((period, why))
    return out
