"""Normalisation: API JSON records and export CSV into typed Arrow record batches of the file schema.

The fast path types a whole batch with vectorised Arrow casts. When any value of a batch will not type, that
batch (only) is typed record by record in Python, which is the authority: the records that cannot be typed
become rejects with their reason, and the rest go on. So one bad record never costs the day, and the common
case never pays for the slow path.

- A documented field absent from a record is stored as null and counted in ``missing_fields``.
- A field the documentation does not name is kept, as JSON text in ``extra``, and counted in
  ``unknown_fields`` (a record carries a field when it has a non-null value for it).
- A record without ``uuid`` or ``start_time``, or of another account, is rejected: it can be neither deduped,
  placed in a day, nor trusted to belong to this partition.
- So is a list element that is not a JSON object, a CSV row with too many or too few cells, text that is not
  valid UTF-8, a value over its field's size limit (``schema.TEXT_LIMITS``), a non-finite number (NaN, inf)
  and a ``start_time`` far outside the padded query (``DayWindow.plausible_starts``).

Rejects reach the sink masked (phone numbers keep their last four digits, long values are cut), with a
reason that names the field and never the raw value of a phone number.

Typing one record value by value lives in ``cdr.convert``; reading the export CSV, and taking out the lines
its reader cannot take, in ``cdr.export_csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_vobiz.cdr.convert import RecordTypeError, to_string, type_record
from airflow_provider_vobiz.cdr.export_csv import (
    CSV_BLOCK_SIZE,
    csv_header,
    has_quote,
    iter_csv_batches,
    parse_header,
    quarantine_unreadable_rows,
)
from airflow_provider_vobiz.cdr.schema import (
    EXTRA_COLUMN,
    FIELDS,
    FILE_SCHEMA,
    FLOAT_FIELDS,
    MONEY,
    PARTITION_KEYS,
    TEXT_LIMITS,
    TIMESTAMP,
)
from airflow_provider_vobiz.privacy import mask_value

# Reading the export CSV and typing one record have their own modules; these names stay importable here.
__all__ = [
    "CSV_BLOCK_SIZE",
    "DATA_FIELDS",
    "JSON_WIRE_SCHEMA",
    "KNOWN_FIELDS",
    "REJECT_VALUE_CHARS",
    "Normalizer",
    "RecordTypeError",
    "RejectSink",
    "batches_of",
    "csv_header",
    "extra_json",
    "has_quote",
    "iter_csv_batches",
    "parse_header",
    "quarantine_unreadable_rows",
    "type_record",
]

#: Every documented field name (account_id included: records carry it, files do not).
KNOWN_FIELDS: frozenset[str] = frozenset(f.name for f in FIELDS)
#: Documented fields stored inside the files, in file order.
DATA_FIELDS = tuple(f for f in FIELDS if f.name not in PARTITION_KEYS)

_STRING = pa.string()
#: How the API's JSON arrives: timestamps as ISO text, money as JSON numbers.
_JSON_WIRE_TYPES = {
    f.name: (_STRING if f.type == TIMESTAMP else pa.float64() if f.type == MONEY else f.type) for f in FIELDS
}
JSON_WIRE_SCHEMA = pa.schema([pa.field(f.name, _JSON_WIRE_TYPES[f.name]) for f in FIELDS])
#: Typed records plus account_id (checked, then dropped) and extra.
_TYPED_SCHEMA = pa.schema(
    [pa.field(f.name, f.type) for f in FIELDS] + [pa.field(EXTRA_COLUMN, _STRING)],
)

RejectSink = Callable[[Any, str], None]
#: Text values longer than this are cut in a quarantined record (the reason says how long they were).
REJECT_VALUE_CHARS = 200


def extra_json(values: dict[str, Any]) -> str | None:
    """Stable JSON text of a record's undocumented fields, or None when it has none."""
    if not values:
        return None
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class Normalizer:
    """Turns raw records into batches of :data:`FILE_SCHEMA`, counting what it saw.

    :param account_id: the partition's account; records of another account are rejected.
    :param on_reject: called with ``(masked record, reason)`` for each record that cannot be kept.
    :param plausible_starts: ``[lo, hi)`` of the start_times the query can return (UTC); a record outside
        is rejected. None: not checked.
    """

    def __init__(
        self,
        account_id: str,
        on_reject: RejectSink | None = None,
        plausible_starts: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> None:
        self.account_id = account_id
        self.on_reject = on_reject
        self.plausible_starts = plausible_starts
        self.records_read = 0
        self.rejected = 0
        self.rows_out = 0
        self.unknown_fields: Counter[str] = Counter()
        self.missing_fields: Counter[str] = Counter()
        self.reject_reasons: Counter[str] = Counter()

    # -- JSON -------------------------------------------------------------------------------------------
    def from_records(self, records: list[Any]) -> pa.RecordBatch:
        """Normalise API JSON records (as parsed: a list element that is not an object is rejected)."""
        self.records_read += len(records)
        if not all(type(rec) is dict for rec in records):
            kept = []
            for rec in records:
                if isinstance(rec, dict):
                    kept.append(rec)
                else:
                    self._reject(rec, f"record: expected a JSON object, got {_json_type(rec)}")
            records = kept
        extras: list[str | None] = []
        has_extra = False
        for rec in records:
            keys = rec.keys()
            if keys == KNOWN_FIELDS:
                extras.append(None)
                continue
            for name in KNOWN_FIELDS - keys:
                self.missing_fields[name] += 1
            unknown = {k: rec[k] for k in keys - KNOWN_FIELDS if rec[k] is not None}
            for k in unknown:
                self.unknown_fields[k] += 1
            extras.append(extra_json(unknown))
            has_extra = has_extra or bool(unknown)
        keep: list[bool] | None = None
        try:
            wire = pa.RecordBatch.from_pylist(records, schema=JSON_WIRE_SCHEMA)
            batch = self._cast_wire(wire, extras if has_extra else None)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            batch, keep = self._type_slowly(records, extras)
        return self._check(batch, records.__getitem__, keep)

    @staticmethod
    def _cast_wire(wire: pa.RecordBatch, extras: list[str | None] | None) -> pa.RecordBatch:
        arrays = []
        for f in FIELDS:
            col = wire.column(f.name)
            arrays.append(col if col.type == f.type else pc.cast(col, f.type))
        arrays.append(pa.array(extras, _STRING) if extras is not None else pa.nulls(wire.num_rows, _STRING))
        return pa.RecordBatch.from_arrays(arrays, schema=_TYPED_SCHEMA)

    def _type_slowly(
        self, records: list[dict[str, Any]], extras: list[str | None]
    ) -> tuple[pa.RecordBatch, list[bool]]:
        """Type record by record; untypable records are rejected here (``keep`` is False for them)."""
        rows: list[dict[str, Any]] = []
        keep: list[bool] = []
        for rec, extra in zip(records, extras, strict=True):
            try:
                row = type_record(rec)
                if extra is not None:
                    to_string(EXTRA_COLUMN, extra)
                keep.append(True)
            except RecordTypeError as err:
                self._reject(rec, str(err))
                row = dict.fromkeys(f.name for f in FIELDS)
                keep.append(False)
            row[EXTRA_COLUMN] = extra
            rows.append(row)
        return pa.RecordBatch.from_pylist(rows, schema=_TYPED_SCHEMA), keep

    # -- CSV --------------------------------------------------------------------------------------------
    def from_csv_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Normalise one batch of export CSV read with every column as text (empty cells are null)."""
        n = batch.num_rows
        self.records_read += n
        names = batch.schema.names
        present = set(names)
        for name in KNOWN_FIELDS - present:
            self.missing_fields[name] += n
        unknown_cols = [c for c in names if c not in KNOWN_FIELDS]
        extras: list[str | None] | None = None
        if unknown_cols:
            cols = {c: batch.column(c).to_pylist() for c in unknown_cols}
            extras = []
            for i in range(n):
                values = {c: cols[c][i] for c in unknown_cols if cols[c][i] is not None}
                for k in values:
                    self.unknown_fields[k] += 1
                extras.append(extra_json(values))
        keep: list[bool] | None = None
        try:
            arrays = []
            for f in FIELDS:
                col = batch.column(f.name) if f.name in present else pa.nulls(n, _STRING)
                arrays.append(col if col.type == f.type else pc.cast(col, f.type))
            arrays.append(pa.array(extras, _STRING) if extras is not None else pa.nulls(n, _STRING))
            typed = pa.RecordBatch.from_arrays(arrays, schema=_TYPED_SCHEMA)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, OverflowError):
            records = batch.to_pylist()  # type_record reads only the documented fields
            typed, keep = self._type_slowly(records, extras or [None] * n)

        def raw(i: int) -> dict[str, Any]:
            return batch.slice(i, 1).to_pylist()[0]

        return self._check(typed, raw, keep)

    def reject_row(self, names: list[str], cells: list[str], reason: str) -> None:
        """Reject one export CSV row that cannot be read as a record (counted as a record read)."""
        self.records_read += 1
        record: dict[str, Any] = dict(zip(names, cells, strict=False))
        if len(cells) > len(names):
            record["_surplus_cells"] = cells[len(names) :]
        self._reject(record, reason)

    def invalid_row_handler(self, names: list[str]) -> Callable[[Any], str]:
        """A pyarrow ``invalid_row_handler``: a row with too many or too few cells is rejected, not fatal.

        The reader's threads may call it at once: a lock keeps the counts and the rejects file whole.
        """
        lock = threading.Lock()

        def handle(row: Any) -> str:
            # newline="": a quoted value's CR or LF belongs to the cell (RFC 4180), not to a new row
            cells = next(csv.reader(io.StringIO(row.text, newline=""))) if row.text else []
            with lock:
                self.reject_row(
                    names, cells, f"row: {row.actual_columns} cells, the header has {row.expected_columns}"
                )
            return "skip"

        return handle

    def _check(
        self, typed: pa.RecordBatch, raw: Callable[[int], dict[str, Any]], keep: list[bool] | None = None
    ) -> pa.RecordBatch:
        """Reject rows that cannot be placed in a day, belong to another account, hold a value over its size
        limit, a non-finite number or an implausible start_time; drop account_id.

        Each check is one vectorised kernel per batch; the reason is worked out only for the rare bad rows
        (the first check a row fails names it).
        """
        checks = self._identity_checks(typed) + _value_checks(typed) + self._plausibility_checks(typed)
        bad = checks[0][0]
        for flags, _ in checks[1:]:
            bad = pc.or_(bad, flags)
        if pc.any(bad).as_py():
            for i in pc.indices_nonzero(bad).to_pylist():
                if keep is not None and not keep[i]:
                    continue  # rejected already, with the typing reason
                reason = next(why(i) for flags, why in checks if flags[i].as_py())
                self._reject(raw(i), reason)
            typed = typed.filter(pc.invert(bad))
        out = pa.RecordBatch.from_arrays(
            [typed.column(name) for name in FILE_SCHEMA.names], schema=FILE_SCHEMA
        )
        self.rows_out += out.num_rows
        return out

    def _identity_checks(self, typed: pa.RecordBatch) -> list[_Check]:
        """A record must say which call it is, when it started, and be of the partition's account."""
        uuid_bad = pc.fill_null(pc.equal(pc.utf8_length(typed["uuid"]), 0), True)
        account_bad = pc.fill_null(pc.not_equal(typed["account_id"], self.account_id), False)
        return [
            (uuid_bad, lambda i: "uuid is missing"),
            (pc.is_null(typed["start_time"]), lambda i: "start_time is missing"),
            (
                account_bad,
                lambda i: (
                    f"account_id {typed['account_id'][i].as_py()!r} is not the partition's account "
                    f"{self.account_id!r}"
                ),
            ),
        ]

    def _plausibility_checks(self, typed: pa.RecordBatch) -> list[_Check]:
        """A start_time far outside the padded query's dates (none when ``plausible_starts`` is None)."""
        if self.plausible_starts is None:
            return []
        lo, hi = self.plausible_starts
        st = typed["start_time"]
        outside = pc.or_(pc.less(st, pa.scalar(lo, st.type)), pc.greater_equal(st, pa.scalar(hi, st.type)))
        return [
            (
                pc.fill_null(outside, False),
                lambda i: (
                    f"start_time {st[i].as_py().isoformat()} is far outside the query's dates "
                    f"(plausible: {lo.isoformat()} .. {hi.isoformat()})"
                ),
            )
        ]

    def _reject(self, record: Any, reason: str) -> None:
        self.rejected += 1
        self.reject_reasons[_reason_kind(reason)] += 1
        if self.on_reject is not None:
            # Reasons hold values only as convert masks them; the record is masked here, its long values cut.
            self.on_reject(mask_value(_shortened(record)), reason)

    def stats(self) -> dict[str, Any]:
        return {
            "records_read": self.records_read,
            "rejected": self.rejected,
            "reject_reasons": dict(sorted(self.reject_reasons.items())),
            "rows_out": self.rows_out,
            "unknown_fields": dict(sorted(self.unknown_fields.items())),
            "missing_fields": dict(sorted(self.missing_fields.items())),
        }


#: One check of a batch: which rows fail it, and the reason for row ``i``.
_Check = tuple[pa.Array, Callable[[int], str]]


def _value_checks(typed: pa.RecordBatch) -> list[_Check]:
    """Text over its field's size limit, and numbers that are not finite."""
    checks: list[_Check] = []
    for name, limit in TEXT_LIMITS.items():
        lengths = pc.binary_length(typed[name])
        over = pc.fill_null(pc.greater(lengths, limit), False)
        checks.append(
            (
                over,
                lambda i, n=name, lim=limit, ln=lengths: (
                    f"{n}: {ln[i].as_py()} bytes, over the {lim}-byte limit"
                ),
            )
        )
    for name in FLOAT_FIELDS:
        col = typed[name]
        checks.append(
            (
                pc.fill_null(pc.invert(pc.is_finite(col)), False),
                lambda i, n=name, c=col: f"{n}: expected a finite number, got {c[i].as_py()}",
            )
        )
    return checks


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {list: "an array", str: "a string", int: "a number", float: "a number"}.get(type(value), "a value")


def _reason_kind(reason: str) -> str:
    """What a reason is about, for counts: its first word (a field name, ``row`` or ``record``)."""
    return re.split(r"[: ]", reason, maxsplit=1)[0]


def _shortened(value: Any) -> Any:
    """A rejected record as quarantined: text over ``REJECT_VALUE_CHARS`` characters cut, saying how long."""
    if isinstance(value, str) and len(value) > REJECT_VALUE_CHARS:
        return value[:REJECT_VALUE_CHARS] + f"... [{len(value)} characters]"
    if isinstance(value, dict):
        return {k: _shortened(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shortened(v) for v in value]
    return value


def batches_of(records: Iterable[dict[str, Any]], size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Group records into lists of ``size`` (1,000-row batches keep from_pylist in cache: measured fastest)."""
    buf: list[dict[str, Any]] = []
    for rec in records:
        buf.append(rec)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf
