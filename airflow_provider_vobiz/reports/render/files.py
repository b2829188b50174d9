"""The machine-readable formats: CSV and JSON with stable bytes (sorted keys, exact decimals).

CSV cells follow the OWASP CSV-injection guidance (:func:`neutralise_csv_cell`): a spreadsheet opening a
report never runs a value as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_CSV_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_csv_cell(text: str) -> str:
    """OWASP CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, TAB or CR is prefixed with ``'``
    so a spreadsheet shows it as text instead of running it, unless the whole cell is a number (``-0.5``)."""
    if text.startswith(_CSV_TRIGGERS) and not _CSV_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return neutralise_csv_cell(str(value))


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """RFC 4180 CSV with a header row; empty cell for null, exact text for decimals; text cells neutralised
    against formula injection (:func:`neutralise_csv_cell`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise_csv_cell(str(c)) for c in columns])
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"CSV row {i} has {len(row)} cells for {len(columns)} columns")
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return None if (math.isnan(value) or math.isinf(value)) else value
    if isinstance(value, Decimal):
        # Exact: money stays a decimal string (a JSON float would round it).
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def render_json(obj: Any) -> bytes:
    """Stable JSON: sorted keys, two-space indent, UTF-8, NaN as null, Decimal as an exact string."""
    return (
        json.dumps(_jsonable(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    ).encode("utf-8")


__all__ = ["neutralise_csv_cell", "render_csv", "render_json"]
