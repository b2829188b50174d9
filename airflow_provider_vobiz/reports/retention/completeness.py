"""Completeness of the fields law enforcement asks for: the share of null or invalid values.

Only those seven columns are read, of a sample of the days present (spread over the window, newest always
included) or of every day with ``mode="full"``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.schema import CALL_DIRECTIONS, E164_PATTERN
from airflow_provider_vobiz.lake.read import read_columns
from airflow_provider_vobiz.reports.retention.policy import (
    COMPLETENESS_MODES,
    DEFAULT_COMPLETENESS_SAMPLE_DAYS,
    LAW_ENFORCEMENT_FIELDS,
    READABLE_STATUSES,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_vobiz.lake.storage import LakeStorage
    from airflow_provider_vobiz.reports.retention.inventory import Inventory

log = logging.getLogger(__name__)

#: ``{field: {"null": n, "invalid": n}}``
FieldCounts = dict[str, dict[str, int]]


def field_completeness_counts(table: pa.Table) -> FieldCounts:
    """Null and invalid counts of the law-enforcement fields in ``table`` (columns absent count as null).

    Invalid means: a phone number not in E.164; an end_time before start_time; a negative duration; a
    call_direction other than inbound/outbound; an empty sip_call_id.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    out: FieldCounts = {}

    def col(name: str) -> pa.ChunkedArray | None:
        return table.column(name) if name in table.column_names else None

    def count_true(mask: Any) -> int:
        return int(pc.sum(pc.fill_null(mask, False).cast(pa.int64())).as_py() or 0)

    def count_invalid(mask: Any, column: Any) -> int:
        # A null is counted once, as null, never also as invalid.
        return count_true(pc.and_(mask, pc.is_valid(column)))

    for name in LAW_ENFORCEMENT_FIELDS:
        column = col(name)
        if column is None:
            out[name] = {"null": n, "invalid": 0}
            continue
        nulls = column.null_count
        invalid = 0
        if name in ("caller_id_number", "destination_number"):
            invalid = count_invalid(pc.invert(pc.match_substring_regex(column, E164_PATTERN)), column)
        elif name == "end_time" and col("start_time") is not None:
            invalid = count_true(pc.less(column, col("start_time")))
        elif name == "duration":
            invalid = count_true(pc.less(column, 0))
        elif name == "call_direction":
            invalid = count_invalid(pc.invert(pc.is_in(column, value_set=pa.array(CALL_DIRECTIONS))), column)
        elif name == "sip_call_id":
            invalid = count_true(pc.equal(pc.utf8_trim_whitespace(column), ""))
        out[name] = {"null": int(nulls), "invalid": invalid}
    return out


def sample_days(days: Sequence[dt.date], limit: int) -> list[dt.date]:
    """Up to ``limit`` days spread evenly over ``days`` (sorted), the newest always included."""
    days = sorted(days)
    if len(days) <= limit:
        return list(days)
    if limit <= 1:
        return [days[-1]]
    step = (len(days) - 1) / (limit - 1)
    return sorted({days[round(i * step)] for i in range(limit)})


def _zero_counts() -> FieldCounts:
    return {f: {"null": 0, "invalid": 0} for f in LAW_ENFORCEMENT_FIELDS}


def _add_counts(into: FieldCounts, counts: FieldCounts) -> None:
    for name, c in counts.items():
        into[name]["null"] += c["null"]
        into[name]["invalid"] += c["invalid"]


def _count_parts(storage: LakeStorage, part_keys: Sequence[str]) -> tuple[int, FieldCounts]:
    """Rows and field counts of one day's parts, reading only the law-enforcement columns."""
    table = read_columns(storage, part_keys, LAW_ENFORCEMENT_FIELDS)
    return table.num_rows, field_completeness_counts(table)


def completeness(
    storage: LakeStorage,
    inv: Inventory,
    mode: str = "sample",
    sample_size: int = DEFAULT_COMPLETENESS_SAMPLE_DAYS,
    max_workers: int = 8,
) -> dict[str, Any]:
    """Share of null or invalid values of the law-enforcement fields, reading only those seven columns.

    :param mode: ``"sample"`` (``sample_size`` days spread over the window), ``"full"`` (every day with
        data) or ``"none"``.
    """
    if mode not in COMPLETENESS_MODES:
        raise ValueError(f"completeness must be one of {COMPLETENESS_MODES}, got {mode!r}")
    result: dict[str, Any] = {"mode": mode, "fields": list(LAW_ENFORCEMENT_FIELDS)}
    if mode == "none":
        result.update(days_checked=0, rows_checked=0, per_field={})
        return result
    keys_of = {r.call_date: r.part_keys for r in inv.days if r.status in READABLE_STATUSES}
    chosen = set(sample_days(list(keys_of), sample_size)) if mode == "sample" else set(keys_of)

    _ = storage.filesystem  # built once, before the threads share it
    t0 = time.perf_counter()
    per_field = _zero_counts()
    rows_checked = 0
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for rows, totals in pool.map(lambda day: _count_parts(storage, keys_of[day]), sorted(chosen)):
            rows_checked += rows
            _add_counts(per_field, totals)
    for counts in per_field.values():
        bad = counts["null"] + counts["invalid"]
        counts["share_null_or_invalid"] = round(bad / rows_checked, 6) if rows_checked else None
    seconds = time.perf_counter() - t0
    log.info(
        "Field completeness (%s): %d rows of %d days in %.2fs (%.0f rows/s)",
        mode,
        rows_checked,
        len(chosen),
        seconds,
        rows_checked / max(seconds, 1e-9),
    )
    result.update(
        days_checked=len(chosen),
        rows_checked=rows_checked,
        checked_days=sorted(d.isoformat() for d in chosen),
        per_field=per_field,
        seconds=round(seconds, 3),
    )
    return result
