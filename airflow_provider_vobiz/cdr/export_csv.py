"""Reading the export CSV: streaming it as Arrow batches, and quarantining the lines the reader cannot take.

Only an empty cell is null. A quoted value may hold CR, LF or CRLF (RFC 4180); a line that is not valid
UTF-8 or longer than the reader's block fails a whole read, so after such a failure those lines are taken out
(and rejected with the field they are about) before the file is read again.
"""

from __future__ import annotations

import csv
import io
import mmap
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv

from airflow_provider_vobiz.cdr.schema import FIELDS, MAX_ROW_BYTES, TEXT_LIMITS

if TYPE_CHECKING:
    from airflow_provider_vobiz.cdr.normalize import Normalizer

#: The documented fields' types, as the typed CSV read converts them (account_id included).
_FILE_TYPES: dict[str, pa.DataType] = {f.name: f.type for f in FIELDS}

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
            column_types={n: _FILE_TYPES.get(n, pa.string()) if typed else pa.string() for n in names},
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
