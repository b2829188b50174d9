"""One rendered block of records as served: its JSON text per record and its CSV, each built column-wise once."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .caching import need
from .malformed import malformed_csv, malformed_json


class Block:
    """One rendered block: the Arrow table of API records (text as served), and its CSV lazily."""

    def __init__(
        self,
        table: pa.Table,
        malformed: dict[int, str],
        extra: str | None,
        field_bytes: int = 10 << 20,
        overrides: dict[int, dict[str, str]] | None = None,
    ) -> None:
        self.table = table
        self.malformed = malformed  # local row -> kind
        self.overrides = overrides or {}  # local row -> the values it holds instead (HOSTILE_VALUES, ...)
        self.extra = extra
        self.field_bytes = field_bytes
        self._csv: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self._json: tuple[memoryview, np.ndarray] | None = None

    @property
    def nbytes(self) -> int:
        n = self.table.nbytes
        if self._csv:
            n += len(self._csv[0]) + 16 * len(self._csv[1])
        if self._json:
            n += self._json[0].nbytes + 8 * len(self._json[1])
        return n

    def _json_rows(self) -> tuple[memoryview, np.ndarray]:
        """Every record of the block as JSON text, rendered column-wise in one pass (no per-record Python)."""
        if self._json is None:
            need("json")
            parts: list = []
            for i, (name, col) in enumerate(zip(self.table.column_names, self.table.columns, strict=True)):
                parts.append(("{" if i == 0 else ",") + f'"{name}":')
                if col.type == pa.string():  # no generated value needs escaping (checked at import)
                    col = pc.binary_join_element_wise('"', col, '"', "")
                else:  # numbers: Arrow's shortest round-trip text, a valid JSON number
                    col = col.cast(pa.string())
                parts.append(pc.fill_null(col, "null"))
            parts.append("}")
            arr = pc.binary_join_element_wise(*parts, "")
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            _, offsets, data = arr.buffers()
            off = np.frombuffer(offsets, dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1].astype(
                np.int64
            )
            self._json = (memoryview(data), off)
        return self._json

    def json_rows(self, local_rows: np.ndarray) -> list[bytes]:
        """The served JSON text of each record (malformed ones as served: a wrong type, a missing field)."""
        data, off = self._json_rows()
        out = [data[off[r] : off[r + 1]].tobytes() for r in local_rows.tolist()]
        if self.malformed:
            for j, row in enumerate(local_rows.tolist()):
                kind = self.malformed.get(row)
                if kind is not None:
                    out[j] = malformed_json(out[j], kind, self.field_bytes)
        if self.overrides:
            for j, row in enumerate(local_rows.tolist()):
                values = self.overrides.get(row)
                if values:  # escaped by orjson: the fast path assumes text needing none
                    rec = orjson.loads(out[j])
                    rec.update((k, v) for k, v in values.items() if k in rec)
                    out[j] = orjson.dumps(rec)
        return out

    def csv(self) -> tuple[bytes, np.ndarray, np.ndarray]:
        """The block as CSV records (no header), with each record's start and end offsets.

        Generated values hold no comma, quote, CR or LF: the block is written unquoted (valid CSV, and
        faster). Only the records holding other values (``overrides``) are written quoted, as a server
        quoting where needed does, and only malformed records are malformed.
        """
        if self._csv is None:
            data = _write_csv(self.table)
            replaced = self._overridden_records()
            if self.malformed:
                ends = _record_ends(data)
                starts = np.concatenate(([0], ends[:-1]))
                names = self.table.column_names
                for row, kind in self.malformed.items():
                    line = data[int(starts[row]) : int(ends[row]) - 1]
                    replaced[row] = malformed_csv(line, names, kind, self.field_bytes) + b"\n"
            if replaced:
                data = _replace_records(data, replaced)
            ends = _record_ends(data)
            starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
            if len(ends) != self.table.num_rows:  # guard the offsets: a record ends at an unquoted newline
                raise RuntimeError("CSV rendering produced an unexpected number of records")
            self._csv = (data, starts, ends)
        return self._csv

    def _overridden_records(self) -> dict[int, bytes]:
        """Each overridden row's CSV record (newline included), its values quoted (RFC 4180)."""
        if not self.overrides:
            return {}
        rows = sorted(self.overrides)
        t = self.table.take(pa.array(rows))
        for name in dict.fromkeys(k for values in self.overrides.values() for k in values):
            i = t.schema.get_field_index(name)
            if i >= 0:
                old = t.column(name).cast(pa.string()).to_pylist()
                new = [self.overrides[r].get(name, v) for r, v in zip(rows, old, strict=True)]
                t = t.set_column(i, name, pa.array(new, pa.string()))
        data = _write_csv(t)
        ends = _record_ends(data)
        starts = np.concatenate(([0], ends[:-1]))
        return {r: data[int(a) : int(b)] for r, a, b in zip(rows, starts, ends, strict=True)}

    def csv_rows(self, local_rows: np.ndarray) -> bytes | memoryview:
        data, starts, ends = self.csv()
        if not len(local_rows):
            return b""
        first, last = int(local_rows[0]), int(local_rows[-1])
        if last - first + 1 == len(local_rows):  # contiguous: a zero-copy slice
            return memoryview(data)[starts[first] : ends[last]]
        s, e = starts[local_rows], ends[local_rows]
        lens = e - s
        shift = np.repeat(s - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
        idx = shift + np.arange(int(lens.sum()))
        return np.frombuffer(data, dtype=np.uint8)[idx].tobytes()


def _write_csv(t: pa.Table) -> bytes:
    """A table as CSV (no header): unquoted when no value needs quotes, else with quoted text."""
    buf = io.BytesIO()
    try:
        pacsv.write_csv(
            t, buf, pacsv.WriteOptions(include_header=False, batch_size=8192, quoting_style="none")
        )
    except pa.ArrowInvalid:  # a comma, quote, CR or LF: quoted, a quote doubled, CR and LF kept inside
        buf = io.BytesIO()
        pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, batch_size=8192))
    return buf.getvalue()


def _replace_records(data: bytes, replaced: dict[int, bytes]) -> bytes:
    """CSV records with the given rows' records replaced."""
    ends = _record_ends(data)
    starts = np.concatenate(([0], ends[:-1]))
    pieces, at = [], 0
    for row in sorted(replaced):
        pieces += [data[at : int(starts[row])], replaced[row]]
        at = int(ends[row])
    pieces.append(data[at:])
    return b"".join(pieces)


def _record_ends(data: bytes) -> np.ndarray:
    """The offset just past each CSV record's newline.

    A quoted value may hold CR and LF (RFC 4180), so an LF ends a record only outside quotes: after an even
    number of quote characters, as the writer doubles a quote inside a value.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    lf = np.flatnonzero(buf == 10)
    if data.find(b'"') >= 0:
        quotes_before = np.searchsorted(np.flatnonzero(buf == 34), lf)
        lf = lf[quotes_before % 2 == 0]
    return lf + 1
