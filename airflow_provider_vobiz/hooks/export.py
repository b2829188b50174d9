"""The export endpoint's CSV, streamed to a file path or a binary stream without holding it in memory.

The API documents no byte ranges, so a retry after a dropped connection restarts the request and truncates
the target back to where it started (a path is rewritten from empty; a stream must then be seekable). If
every attempt fails, a path target is removed, so a partial file is never mistaken for an export.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from airflow_provider_vobiz.hooks.exceptions import VobizTransportError

EXPORT_CHUNK_BYTES = 256 * 1024


@dataclass
class ExportResult:
    """What :meth:`VobizHook.export_to` wrote: ``bytes`` of CSV, ``rows`` (data lines, header excluded),
    ``path`` (None when the target was a stream), how many ``attempts`` it took and ``elapsed_s``."""

    bytes: int
    rows: int
    path: str | None
    attempts: int = 1
    elapsed_s: float = 0.0


class CsvRowCounter:
    """Counts CSV records in a byte stream without holding it: newlines outside double quotes."""

    def __init__(self) -> None:
        self.lines = 0
        self.in_quotes = False
        self.pending = False  # bytes after the last record separator

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if not self.in_quotes and b'"' not in chunk:
            self.lines += chunk.count(b"\n")
        else:
            for segment_index, segment in enumerate(chunk.split(b'"')):
                if segment_index:
                    self.in_quotes = not self.in_quotes
                if not self.in_quotes:
                    self.lines += segment.count(b"\n")
        self.pending = not chunk.endswith(b"\n")

    @property
    def data_rows(self) -> int:
        records = self.lines + (1 if self.pending else 0)
        return max(0, records - 1)  # the header line


class ExportTarget:
    """Where an export goes, and how an attempt starts over or a failed export is undone.

    :param target: a file path (rewritten from empty on every attempt) or a binary stream (rewound to where
        it stood when the export began, which needs ``seekable()``).
    :param query: the query as described in messages.
    """

    def __init__(self, target: str | os.PathLike | IO[bytes], query: str) -> None:
        self.path = Path(target) if isinstance(target, str | os.PathLike) else None
        self.stream: IO[bytes] | None = None if self.path is not None else target  # type: ignore[assignment]
        self.start_pos = self.stream.tell() if self.stream is not None and self.stream.seekable() else None
        self.query = query
        self.dirty = False  # bytes of some attempt were written
        self.attempts = 0

    def open(self) -> IO[bytes]:
        """The output of one attempt, emptied of an earlier attempt's bytes."""
        if self.path is not None:
            return self.path.open("wb")
        assert self.stream is not None
        if self.dirty:
            if self.start_pos is None:
                raise VobizTransportError(
                    f"Vobiz API export ({self.query}): the connection dropped mid-download and the target "
                    "stream is not seekable, so the export cannot be restarted; pass a path or a seekable "
                    "stream",
                    endpoint="export",
                )
            self.stream.seek(self.start_pos)
            self.stream.truncate()
        return self.stream

    def close(self, out: IO[bytes]) -> None:
        """End an attempt's output (a path's file is closed; a caller's stream stays open)."""
        if self.path is not None:
            out.close()

    def discard(self) -> None:
        """Undo a failed export: remove the file, or truncate the stream back to where it began."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        elif self.stream is not None and self.start_pos is not None and self.dirty:
            self.stream.seek(self.start_pos)
            self.stream.truncate()

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.flush()


def copy_chunks(
    response: httpx.Response,
    out: IO[bytes],
    target: ExportTarget,
    counter: CsvRowCounter,
    *,
    log: logging.Logger,
    started: float,
    interval: float,
) -> int:
    """Write the response body to ``out`` chunk by chunk, counting rows and logging progress; the bytes."""
    written = 0
    next_log = time.monotonic() + interval
    for chunk in response.iter_bytes(EXPORT_CHUNK_BYTES):
        target.dirty = True
        out.write(chunk)
        counter.feed(chunk)
        written += len(chunk)
        if time.monotonic() >= next_log:
            next_log = time.monotonic() + interval
            secs = max(time.monotonic() - started, 1e-9)
            log.info(
                "Vobiz API export: %.1f MiB, ~%d rows, %.1f MiB/s",
                written / 2**20,
                counter.data_rows,
                written / 2**20 / secs,
            )
    return written


def download(
    client: httpx.Client,
    url_path: str,
    params: dict[str, str],
    target: ExportTarget,
    *,
    check: Callable[[httpx.Response], None],
    log: logging.Logger,
    started: float,
    interval: float,
) -> tuple[int, int]:
    """One attempt of the export: the target emptied, the CSV streamed into it; ``(bytes, data rows)``.

    :param check: raises for a status that is not a success (the hook's response mapping).
    """
    target.attempts += 1
    out = target.open()
    counter = CsvRowCounter()
    try:
        with client.stream("GET", url_path, params=params, headers={"Accept": "text/csv"}) as response:
            if response.status_code >= 300:
                response.read()
            check(response)
            written = copy_chunks(response, out, target, counter, log=log, started=started, interval=interval)
    finally:
        target.close(out)
    return written, counter.data_rows
