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
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
import mmap
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from airflow_provider_vobiz.cdr.schema import (
    EXTRA_COLUMN,
    FIELDS,
    FILE_SCHEMA,
    FLOAT_FIELDS,
    MAX_ROW_BYTES,
    MONEY,
    MONEY_SCALE,
    PARTITION_KEYS,
    TEXT_LIMITS,
    TIMESTAMP,
)
from airflow_provider_vobiz.privacy import mask_text, mask_value

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
_MONEY_QUANTUM = decimal.Decimal(1).scaleb(-MONEY_SCALE)
_MONEY_MAX = decimal.Decimal(10) ** (18 - MONEY_SCALE)

#: The documented fields' types, as the typed CSV read converts them (account_id included).
_FILE_TYPES: dict[str, pa.DataType] = {f.name: f.type for f in FIELDS}

RejectSink = Callable[[Any, str], None]
#: Text values longer than this are cut in a quarantined record (the reason says how long they were).
REJECT_VALUE_CHARS = 200


class RecordTypeError(ValueError):
    """A record that cannot be typed; the message is the reject reason."""


# -- per-record typing: the authority -------------------------------------------------------------------
def _to_int(name: str, v: Any) -> int:
    if isinstance(v, bool):
        raise RecordTypeError(f"{name}: expected an integer, got a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    raise RecordTypeError(f"{name}: expected an integer, got {_show(v)}")


def _to_float(name: str, v: Any) -> float:
    if isinstance(v, bool):
        raise RecordTypeError(f"{name}: expected a number, got a boolean")
    if isinstance(v, int | float):
        out = float(v)
    elif isinstance(v, str):
        try:
            out = float(v.strip())
        except ValueError:
            raise RecordTypeError(f"{name}: expected a number, got {_show(v)}") from None
    else:
        raise RecordTypeError(f"{name}: expected a number, got {_show(v)}")
    if not math.isfinite(out):
        raise RecordTypeError(f"{name}: expected a finite number, got {_show(v)}")
    return out


def _to_money(name: str, v: Any) -> decimal.Decimal:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise RecordTypeError(f"{name}: expected an amount, got {_show(v)}")
    try:
        # str() of a float is its shortest round-trip text: 0.3 stays 0.3, not 0.299999...
        amount = decimal.Decimal(v.strip() if isinstance(v, str) else str(v))
    except decimal.InvalidOperation:
        raise RecordTypeError(f"{name}: expected an amount, got {_show(v)}") from None
    if not amount.is_finite() or abs(amount) >= _MONEY_MAX:
        raise RecordTypeError(f"{name}: amount {_show(v)} does not fit decimal(18, {MONEY_SCALE})")
    return amount.quantize(_MONEY_QUANTUM, rounding=decimal.ROUND_HALF_EVEN)


def _to_timestamp(name: str, v: Any) -> dt.datetime:
    if not isinstance(v, str):
        raise RecordTypeError(f"{name}: expected an ISO 8601 timestamp, got {_show(v)}")
    text = v.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        ts = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RecordTypeError(f"{name}: expected an ISO 8601 timestamp, got {_show(v)}") from None
    # The API writes UTC with a Z; a timestamp without an offset is read as UTC too.
    return ts.replace(tzinfo=dt.timezone.utc) if ts.tzinfo is None else ts.astimezone(dt.timezone.utc)


def _to_string(name: str, v: Any) -> str:
    if isinstance(v, str):
        if not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # the hook decodes bytes that are not UTF-8 as lone surrogates
                raise RecordTypeError(f"{name}: invalid UTF-8") from None
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    raise RecordTypeError(f"{name}: expected text, got {_show(v)}")


def _show(v: Any) -> str:
    """A value for a reason: short, and masked (the value may be a phone number in the wrong field)."""
    text = json.dumps(v, default=str, ensure_ascii=False)
    return mask_text(text if len(text) <= 60 else text[:57] + "...")


_CONVERTERS: dict[str, Callable[[str, Any], Any]] = {}
for _f in FIELDS:
    if _f.type == TIMESTAMP:
        _CONVERTERS[_f.name] = _to_timestamp
    elif _f.type == MONEY:
        _CONVERTERS[_f.name] = _to_money
    elif _f.type == pa.int64():
        _CONVERTERS[_f.name] = _to_int
    elif _f.type == pa.float64():
        _CONVERTERS[_f.name] = _to_float
    else:
        _CONVERTERS[_f.name] = _to_string


def type_record(record: dict[str, Any]) -> dict[str, Any]:
    """Type one record's documented fields (``None`` stays null); raise :class:`RecordTypeError`."""
    out: dict[str, Any] = {}
    for name, convert in _CONVERTERS.items():
        v = record.get(name)
        out[name] = None if v is None else convert(name, v)
    return out


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
                    _to_string(EXTRA_COLUMN, extra)
                keep.append(True)
            except RecordTypeError as err:
                self._reject(rec, str(err))
                row = dict.fromkeys(_CONVERTERS)
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

    # -- shared -----------------------------------------------------------------------------------------
    def _check(
        self, typed: pa.RecordBatch, raw: Callable[[int], dict[str, Any]], keep: list[bool] | None = None
    ) -> pa.RecordBatch:
        """Reject rows that cannot be placed in a day, belong to another account, hold a value over its size
        limit, a non-finite number or an implausible start_time; drop account_id.

        Each check is one vectorised kernel per batch; the reason is worked out only for the rare bad rows.
        """
        checks: list[tuple[pa.Array, Callable[[int], str]]] = []
        uuid_bad = pc.fill_null(pc.equal(pc.utf8_length(typed["uuid"]), 0), True)
        checks.append((uuid_bad, lambda i: "uuid is missing"))
        checks.append((pc.is_null(typed["start_time"]), lambda i: "start_time is missing"))
        account_bad = pc.fill_null(pc.not_equal(typed["account_id"], self.account_id), False)
        checks.append(
            (
                account_bad,
                lambda i: (
                    f"account_id {typed['account_id'][i].as_py()!r} is not the partition's account "
                    f"{self.account_id!r}"
                ),
            )
        )
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
        if self.plausible_starts is not None:
            lo, hi = self.plausible_starts
            st = typed["start_time"]
            outside = pc.or_(
                pc.less(st, pa.scalar(lo, st.type)), pc.greater_equal(st, pa.scalar(hi, st.type))
            )
            checks.append(
                (
                    pc.fill_null(outside, False),
                    lambda i: (
                        f"start_time {st[i].as_py().isoformat()} is far outside the query's dates "
                        f"(plausible: {lo.isoformat()} .. {hi.isoformat()})"
                    ),
                )
            )
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

    def _reject(self, record: Any, reason: str) -> None:
        self.rejected += 1
        self.reject_reasons[_reason_kind(reason)] += 1
        if self.on_reject is not None:
            self.on_reject(mask_record(record), reason)  # reasons hold values only through _show: masked

    def stats(self) -> dict[str, Any]:
        return {
            "records_read": self.records_read,
            "rejected": self.rejected,
            "reject_reasons": dict(sorted(self.reject_reasons.items())),
            "rows_out": self.rows_out,
            "unknown_fields": dict(sorted(self.unknown_fields.items())),
            "missing_fields": dict(sorted(self.missing_fields.items())),
        }


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {list: "an array", str: "a string", int: "a number", float: "a number"}.get(type(value), "a value")


def _reason_kind(reason: str) -> str:
    """What a reason is about, for counts: its first word (a field name, ``row`` or ``record``)."""
    return re.split(r"[: ]", reason, maxsplit=1)[0]


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > REJECT_VALUE_CHARS:
        return value[:REJECT_VALUE_CHARS] + f"... [{len(value)} characters]"
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v) for v in value]
    return value


def mask_record(record: Any) -> Any:
    """A rejected record as quarantined: phone numbers masked, text over 200 characters cut."""
    return mask_value(_cut(record))


# -- export CSV reading -----------------------------------------------------------------------------------
#: The CSV reader's block: the unit its threads parse, and the longest row it takes (pyarrow's default:
#: 1 MiB).
CSV_BLOCK_SIZE = 4 << 20


def parse_header(line: str) -> list[str]:
    """The column names in an export CSV's first line."""
    if not line.strip():
        return []
    return next(csv.reader([line]))


def csv_header(path: str) -> list[str]:
    """The column names of an export CSV file (its first line)."""
    with open(path, "rb") as fh:  # binary: a text reader would decode (and choke on) lines past the header
        return parse_header(fh.readline().decode("utf-8"))


def has_quote(path: str) -> bool:
    """Whether a file holds a double quote anywhere (a memchr-speed scan, no copy)."""
    with open(path, "rb") as fh:
        if not os.fstat(fh.fileno()).st_size:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b'"') >= 0


class CRSafeReader(io.RawIOBase):
    """A binary reader whose reads never end with a CR while more bytes follow.

    Arrow's CSV reader (26.0 still) drops an LF that starts one of its input buffers when the buffer
    before ended with a CR, taking the pair for a line end split in two even when it is inside a quoted
    value: ``"a\\r\\nb"`` read across such a boundary comes back as ``"a\\rb"``, with no error. Holding a
    trailing CR back to the next read keeps every CRLF inside one buffer.

    :param raw: a binary file-like object with ``readinto`` (not closed by this reader).
    """

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw
        self._held = False  # a CR held back from the last read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        n = 0
        if self._held:
            view[0], n, self._held = 13, 1, False
        n += self._raw.readinto(view[n:]) or 0
        while n == 1 and view[0] == 13 and len(view) > 1:  # a lone CR: see what follows before passing it
            more = self._raw.readinto(view[1:]) or 0
            if not more:
                return 1
            n += more
        if n > 1 and view[n - 1] == 13:
            self._held = True
            return n - 1
        return n


def iter_csv_batches(
    source: str | Any,
    block_size: int = CSV_BLOCK_SIZE,
    names: list[str] | None = None,
    invalid_row_handler: Callable[[Any], str] | None = None,
    typed: bool = False,
    newlines_in_values: bool | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream an export CSV as batches; only an empty cell is null.

    With ``typed``, documented columns are converted to their file types by the reader itself (the fast
    path: one pass, no casts after), and a cell that will not convert fails the read with
    ``pyarrow.ArrowInvalid``. Without, every column is read as text, so that one bad cell rejects one record
    (in :meth:`Normalizer.from_csv_batch`) instead of failing the whole read.

    A quoted value may hold CR, LF or CRLF (RFC 4180). Only a reader told so (``newlines_in_values``) keeps
    such a record whole: told not, it cuts the record where one of its blocks ends inside the value (rows of
    the wrong width, a wrong row, or a failed read). Telling it costs a slower, serial search for row ends, so it is told only when the CSV holds a
    quote at all: a CSV without one cannot hold a newline in a value. Told so, it reads through a
    :class:`CRSafeReader`, so that a block ending between a value's CR and LF loses nothing.

    :param source: a path, or a binary file-like object (then ``names``, the header's columns, is required).
    :param invalid_row_handler: pyarrow's hook for a row with the wrong number of cells
        (:meth:`Normalizer.invalid_row_handler`); None: such a row fails the read.
    :param typed: convert documented columns to their file types while reading.
    :param newlines_in_values: whether a quoted value may span lines. None: for a path, whether the file
        holds a quote (:func:`has_quote`); for a file-like object, True.
    """
    if names is None:
        names = csv_header(source)
    if not names:
        return
    if len(set(names)) != len(names):
        dupes = sorted(n for n, c in Counter(names).items() if c > 1)
        raise ValueError(f"export CSV header repeats column(s) {dupes}")
    if newlines_in_values is None:
        newlines_in_values = has_quote(source) if isinstance(source, str) else True
    opened = open(source, "rb") if newlines_in_values and isinstance(source, str) else None  # noqa: SIM115
    try:
        if newlines_in_values:
            source = CRSafeReader(opened or source)
        yield from _read_csv_batches(
            source, block_size, names, invalid_row_handler, typed, newlines_in_values
        )
    finally:
        if opened is not None:
            opened.close()


def _read_csv_batches(
    source: Any,
    block_size: int,
    names: list[str],
    invalid_row_handler: Callable[[Any], str] | None,
    typed: bool,
    newlines_in_values: bool,
) -> Iterator[pa.RecordBatch]:
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=block_size, use_threads=True),
        parse_options=pacsv.ParseOptions(
            newlines_in_values=newlines_in_values, invalid_row_handler=invalid_row_handler
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: _FILE_TYPES.get(n, _STRING) if typed else _STRING for n in names},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )
    try:
        for batch in reader:
            if batch.num_rows:
                yield batch
    finally:
        reader.close()  # a caller that stops early must not leave the reader reading ahead


def quarantine_unreadable_rows(source: str, target: str, normalizer: Normalizer) -> list[str]:
    """Copy an export CSV to ``target`` without the lines pyarrow's reader cannot take; reject those.

    The fast reader fails a whole read on a line that is not valid UTF-8 or longer than its block. This
    pass, line by line in Python, runs only after such a failure: each line over ``MAX_ROW_BYTES`` or not
    valid UTF-8 is rejected with the field it is about, and the rest is left for the fast reader (whose
    ``invalid_row_handler`` takes rows of the wrong width). A record whose quoted value holds a newline is
    judged, and kept or rejected, whole. Returns the header's column names.
    """
    with open(source, "rb") as src, open(target, "wb") as dst:
        header = src.readline()
        try:
            names = parse_header(header.decode("utf-8"))
        except UnicodeDecodeError:
            raise ValueError("the export CSV's header line is not valid UTF-8") from None
        dst.write(header)
        for line in _csv_records(src):
            reason = None
            if len(line) > MAX_ROW_BYTES:
                reason = _oversized_reason(names, line)
            elif not line.isascii():
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    reason = _invalid_utf8_reason(names, line)
            if reason is None:
                dst.write(line)
                continue
            # Cells split at commas, not parsed: the line is not one the csv module takes either.
            cells = [cell.decode("utf-8", "replace") for _, cell in _raw_cells(names, line)]
            normalizer.reject_row(names, cells, reason)
    return names


def _csv_records(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Join lines into records: a line that ends inside a quoted value goes on in the next line."""
    record = b""
    in_quote = False
    for line in lines:
        record += line
        if in_quote or b'"' in line:
            in_quote = _ends_in_quote(line, in_quote)
            if in_quote:
                continue
        yield record
        record = b""
    if record:
        yield record


def _ends_in_quote(line: bytes, in_quote: bool) -> bool:
    """Whether a line ends inside a quoted value, as pyarrow's reader sees it: a quote opens a value only at
    the value's start, ``""`` inside one is a quote, and any other quote closes it.

    :param in_quote: whether the line starts inside a quoted value (else it starts a value).
    """
    i, n = 0, len(line)
    while i < n:
        if in_quote:
            j = line.find(b'"', i)
            if j < 0:
                return True
            if line[j + 1 : j + 2] == b'"':
                i = j + 2
                continue
            in_quote, i = False, j + 1
        elif line[i : i + 1] == b'"':
            in_quote, i = True, i + 1
            continue
        comma = line.find(b",", i)  # outside quotes: on to the next value
        if comma < 0:
            return False
        i = comma + 1
    return in_quote


def _raw_cells(names: list[str], line: bytes) -> list[tuple[str, bytes]]:
    """(column, raw bytes) of a line split at commas (enough to name the culprit in a reason)."""
    cells = line.rstrip(b"\r\n").split(b",")
    return [(names[i] if i < len(names) else f"cell {i + 1}", cell) for i, cell in enumerate(cells)]


def _oversized_reason(names: list[str], line: bytes) -> str:
    for name, cell in _raw_cells(names, line):
        limit = TEXT_LIMITS.get(name)
        if limit is not None and len(cell) > limit:
            return f"{name}: {len(cell)} bytes, over the {limit}-byte limit"
    return f"row: {len(line)} bytes, over the {MAX_ROW_BYTES}-byte limit"


def _invalid_utf8_reason(names: list[str], line: bytes) -> str:
    for name, cell in _raw_cells(names, line):
        try:
            cell.decode("utf-8")
        except UnicodeDecodeError:
            return f"{name}: invalid UTF-8"
    return "row: invalid UTF-8"


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
