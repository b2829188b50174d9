"""Injected faults: what a fault is, what it does to a request, and the broken bodies it sends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson

from .errors import ApiError

ENDPOINTS = ("list", "search", "export", "single", "recent")
FAULT_KINDS = ("status", "slow", "drop", "truncate", "undercount")
#: Kinds that combine with any other fault on the same request.
MODIFIERS = ("slow", "undercount")


class DropConnection(Exception):
    """Raised mid-body to make the server close the connection (an injected fault, not a bug)."""


class _HideDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        todo = [record.exc_info[1]] if record.exc_info else []
        seen = 0
        while todo and seen < 50:  # the drop may arrive wrapped in exception groups or chained
            exc = todo.pop()
            seen += 1
            if exc is None:
                continue
            if isinstance(exc, DropConnection):
                return False
            todo += [*getattr(exc, "exceptions", ()), exc.__cause__, exc.__context__]
        return True


logging.getLogger("uvicorn.error").addFilter(_HideDrops())


@dataclass
class Fault:
    """One injected fault. ``times=None`` means until cleared.

    :param kind: ``status`` (answer ``status`` with a JSON error, ``Retry-After`` if ``retry_after``),
        ``slow`` (wait ``delay`` seconds before answering), ``drop`` (close the connection after
        ``after_bytes`` bytes of the body), ``truncate`` (list/search: drop the last ``records`` records of
        the page's ``data`` while ``pagination`` still counts them: a page that comes back short),
        ``undercount`` (list/search: ``pagination.total`` is ``records`` lower, ``pages``/``has_next`` agree
        with it and the listing stops there, so ``records`` calls are never served; ``summary`` still
        counts every call). ``slow`` and ``undercount`` combine with another fault on the same request.
    :param endpoint: ``list``, ``search``, ``export``, ``single``, ``recent`` or ``*``.
    :param page: only requests for this ``page`` (list/search).
    """

    kind: str = "status"
    status: int = 503
    retry_after: float | None = None
    delay: float = 1.0
    after_bytes: int = 1000
    records: int = 1
    times: int | None = 1
    endpoint: str = "*"
    page: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, got {self.kind!r}")
        if self.endpoint != "*" and self.endpoint not in ENDPOINTS:
            raise ValueError(f"fault endpoint must be '*' or one of {ENDPOINTS}, got {self.endpoint!r}")
        if self.kind == "status" and not 400 <= int(self.status) <= 599:
            raise ValueError(f"fault status must be a 4xx or 5xx code, got {self.status}")
        if self.times is not None and self.times < 1:
            raise ValueError("fault times must be >= 1 (or None for until cleared)")
        if self.kind in ("truncate", "undercount") and self.endpoint not in ("list", "search", "*"):
            raise ValueError(f"a {self.kind} fault applies to the list and search endpoints only")
        if self.delay < 0 or self.after_bytes < 0 or self.records < 0:
            raise ValueError("fault delay and after_bytes must not be negative")

    def matches(self, endpoint: str, page: int | None) -> bool:
        return self.endpoint in ("*", endpoint) and (self.page is None or self.page == page)


@dataclass
class FaultEffects:
    """What the request's faults leave for its answer once waited out: a dropped connection (after
    ``drop`` bytes), a page short by ``short_by`` records, a listing ``undercount`` records short."""

    drop: int | None = None
    short_by: int = 0
    undercount: int = 0


async def apply_faults(faults: Iterable[Fault]) -> FaultEffects:
    """Wait out ``slow`` faults, raise a ``status`` fault as its error answer, collect the others."""
    effects = FaultEffects()
    for f in faults:
        if f.kind == "slow":
            await asyncio.sleep(f.delay)
        elif f.kind == "status":
            headers = {}
            if f.retry_after is not None:
                ra = f.retry_after
                headers["Retry-After"] = str(int(ra) if float(ra).is_integer() else ra)
            raise ApiError(f.status, f"injected fault: HTTP {f.status}", headers)
        elif f.kind == "truncate":
            effects.short_by = f.records
        elif f.kind == "undercount":
            effects.undercount = f.records
        else:
            effects.drop = f.after_bytes
    return effects


def truncated(chunks: Iterator[bytes | memoryview], after_bytes: int | None) -> Iterator[bytes]:
    sent = 0
    for c in chunks:
        c = bytes(c)
        if after_bytes is not None and sent + len(c) >= after_bytes:
            if after_bytes > sent:
                yield c[: after_bytes - sent]
            raise DropConnection(f"fault: connection dropped after {after_bytes} bytes")
        sent += len(c)
        yield c
    if after_bytes is not None:
        raise DropConnection("fault: connection dropped at the end of the body")


def short_page(body: bytes, n: int) -> bytes:
    """A page missing its last ``n`` records, with ``count`` matching and ``pagination`` untouched."""
    doc = orjson.loads(body)
    doc["data"] = doc["data"][: max(0, len(doc["data"]) - n)]
    doc["count"] = len(doc["data"])
    return orjson.dumps(doc)
