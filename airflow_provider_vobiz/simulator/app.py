"""The HTTP side: the five documented endpoints, auth, parameter validation, faults, the control API.

Semantics the documentation leaves open, as decided here (docs/sim.md says the same):

* list/search order: ``start_time`` descending, then ``id`` descending (newest first: the documented example's
  first record is the one ``summary.last_call_at`` names); recent: the same order; export: ascending.
* ``start_date``/``end_date`` are inclusive calendar days of ``start_time`` in the configured timezone.
* ``per_page`` > 100 is a 400; a page beyond the last is ``data: []`` with correct pagination.
* ``/{call_id}`` takes a uuid (or the numeric id) and answers ``{"account_id", "data": {CDR}, "success"}``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import anyio.to_thread
import numpy as np
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .config import SimulatorConfig
from .data import Cold, Dataset, Filters, Selection, cached_only, day_window

ENDPOINTS = ("list", "search", "export", "single", "recent")
FAULT_KINDS = ("status", "slow", "drop", "truncate", "undercount")
#: Kinds that combine with any other fault on the same request.
_MODIFIERS = ("slow", "undercount")
MAX_PER_PAGE = 100
MAX_LIMIT = 1000
_INT = re.compile(r"^[0-9]{1,9}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
log = logging.getLogger(__name__)


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


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


_REASON = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests",
           500: "internal_server_error", 502: "bad_gateway", 503: "service_unavailable"}  # fmt: skip


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"success": False, "error": _REASON.get(status, "error"), "message": message}
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


@dataclass
class SimState:
    """Mutable state shared by the app and its controller: clock, faults, request log, the dataset."""

    config: SimulatorConfig
    dataset: Dataset = field(init=False)
    now: datetime = field(init=False)
    faults: list[Fault] = field(default_factory=list)
    log: deque = field(default_factory=lambda: deque(maxlen=200_000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.dataset = Dataset(self.config)
        self.now = self.config.effective_now

    @property
    def now_epoch(self) -> int:
        return int(self.now.timestamp())

    def set_now(self, now: datetime | None) -> None:
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        self.now = (now or self.config.effective_now).astimezone(timezone.utc)

    def add_fault(self, **kw: Any) -> Fault:
        f = Fault(**kw)
        with self.lock:
            self.faults.append(f)
        return f

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_faults(self, endpoint: str, page: int | None) -> list[Fault]:
        """The faults that apply to this request (all matching ``slow``/``undercount``, then the first
        status/drop/truncate)."""
        chosen: list[Fault] = []
        with self.lock:
            terminal = False
            for f in list(self.faults):
                if not f.matches(endpoint, page) or (f.kind not in _MODIFIERS and terminal):
                    continue
                chosen.append(f)
                terminal = terminal or f.kind not in _MODIFIERS
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
        return chosen

    def records(self, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
        lo = int(start.timestamp()) if start else None
        hi = int(end.timestamp()) if end else None
        sel = self.dataset.select(Filters(lo=lo, hi=hi), self.now_epoch)
        return self.dataset.dicts(sel.days, sel.rows, self.now_epoch)


# -- parameters ---------------------------------------------------------------------------------------------
def _int(q: dict[str, str], name: str, default: int | None, lo: int, hi: int | None = None) -> int | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    if not _INT.match(raw.strip()):
        raise ApiError(400, f"{name} must be an integer, got {raw!r}")
    v = int(raw)
    if v < lo or (hi is not None and v > hi):
        rng = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise ApiError(400, f"{name} must be {rng}, got {v}")
    return v


def _date(q: dict[str, str], name: str) -> date | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a date in YYYY-MM-DD format, got {raw!r}") from None


def _phone(q: dict[str, str], name: str) -> tuple[int | None, str | None]:
    raw = q.get(name)
    if raw is None or raw == "":
        return None, None
    # An unencoded '+' in a query string arrives as a space.
    v = raw.strip()
    if raw.startswith(" ") and not v.startswith("+"):
        v = "+" + v
    if not _PHONE.match(v):
        raise ApiError(
            400, f"{name} must be a phone number in E.164 format (e.g. +919876543210), got {raw!r}"
        )
    return int(v.lstrip("+")), "+" + v.lstrip("+")


def parse_filters(state: SimState, q: dict[str, str]) -> tuple[Filters, dict[str, Any]]:
    """Validate the filter parameters; return the filters and their echo (search's ``filters``)."""
    echo: dict[str, Any] = {}
    frm, frm_s = _phone(q, "from_number")
    to, to_s = _phone(q, "to_number")
    if frm_s:
        echo["from_number"] = frm_s
    if to_s:
        echo["to_number"] = to_s
    sd, ed = _date(q, "start_date"), _date(q, "end_date")
    lo = hi = None
    if (sd is None) != (ed is None):
        missing, given = ("end_date", "start_date") if ed is None else ("start_date", "end_date")
        raise ApiError(400, f"{missing} is required when {given} is given")
    if sd is not None and ed is not None:
        if sd > ed:
            raise ApiError(400, f"start_date ({sd}) must not be after end_date ({ed})")
        days = state.config.api_retention_days
        if days is not None:
            from zoneinfo import ZoneInfo

            today = state.now.astimezone(ZoneInfo(state.config.date_filter_timezone)).date()
            earliest = date.fromordinal(today.toordinal() - days)
            if sd < earliest:
                raise ApiError(
                    400,
                    f"start_date {sd} is older than the API's retention of {days} days; "
                    f"the earliest date available is {earliest}",
                )
        lo, hi = day_window(sd, ed, state.config.date_filter_timezone)
        echo["start_date"], echo["end_date"] = sd.isoformat(), ed.isoformat()
    direction = q.get("call_direction")
    dir_code = None
    if direction not in (None, ""):
        if direction not in ("inbound", "outbound"):
            raise ApiError(400, f"call_direction must be 'inbound' or 'outbound', got {direction!r}")
        dir_code = 1 if direction == "outbound" else 0
        echo["call_direction"] = direction
    md = _int(q, "min_duration", None, 0)
    if md is not None:
        echo["min_duration"] = md
    return Filters(frm, to, lo, hi, dir_code, md), echo


# -- responses ----------------------------------------------------------------------------------------------
def _page_positions(n: int, page: int, per_page: int, drift: bool) -> tuple[np.ndarray, int]:
    """Ascending-selection indices for ``page`` of the newest-first listing, and the number of pages.

    With ``drift``, the last record of page 1 is served again as the first of page 2 (as when a new call is
    inserted ahead while a client pages): the listing is one longer than ``total``, and ``pages`` covers it.
    """
    length = n + 1 if drift and n > per_page else n
    pages = math.ceil(length / per_page) if length else 0
    j = np.arange((page - 1) * per_page, min(page * per_page, length), dtype=np.int64)
    if length != n:
        j = np.where(j >= per_page, j - 1, j)
    return n - 1 - j, pages


def _list_body(state: SimState, endpoint: str, q: dict[str, str], undercount: int = 0) -> bytes:
    f, echo = parse_filters(state, q)
    page = _int(q, "page", 1, 1)
    per_page = _int(q, "per_page", 20, 1, MAX_PER_PAGE)
    now = state.now_epoch
    ds = state.dataset
    sel = ds.select(f, now)
    listed = max(0, len(sel) - undercount)  # an undercount drops the newest calls from the listing
    pos, pages = _page_positions(listed, page, per_page, state.config.duplicate_across_pages)
    data = ds.json_records(sel.days[pos], sel.rows[pos], now) if len(pos) else []
    pagination = {
        "page": page,
        "per_page": per_page,
        "total": listed,
        "pages": pages,
        "has_next": page < pages,
        "has_prev": page > 1,
    }
    return b"".join(
        [
            _envelope(state, data),
            b',"pagination":',
            orjson.dumps(pagination),
            b',"summary":',
            orjson.dumps(sel.summary),
            b',"filters":' + orjson.dumps(echo) if endpoint == "search" else b"",
            b',"success":true}',
        ]
    )


def _envelope(state: SimState, data: list[bytes]) -> bytes:
    """``{"account_id":...,"count":N,"data":[...]`` (the records are pre-rendered JSON text)."""
    head = b'{"account_id":' + orjson.dumps(state.config.auth_id) + b',"count":%d,"data":[' % len(data)
    return head + b",".join(data) + b"]"


def _recent_body(state: SimState, q: dict[str, str]) -> bytes:
    limit = _int(q, "limit", 20, 1, MAX_LIMIT)
    now = state.now_epoch
    sel = state.dataset.select(Filters(), now)
    pos = np.arange(len(sel) - 1, max(-1, len(sel) - 1 - limit), -1, dtype=np.int64)
    data = state.dataset.json_records(sel.days[pos], sel.rows[pos], now) if len(pos) else []
    return _envelope(state, data) + b',"success":true}'


def _single_body(state: SimState, call_id: str) -> bytes:
    ds = state.dataset
    hit = ds.locate(call_id)
    now = state.now_epoch
    if hit is None or ds.core(hit[0]).created[hit[1]] > now:
        raise ApiError(404, f"CDR {call_id!r} not found")
    d, row = hit
    rec = ds.json_records(np.array([d]), np.array([row]), now)[0]
    return b'{"account_id":' + orjson.dumps(state.config.auth_id) + b',"data":' + rec + b',"success":true}'


def _export_selection(state: SimState, q: dict[str, str]) -> Selection:
    f, _ = parse_filters(state, q)
    return state.dataset.select(f, state.now_epoch)


def _truncated(chunks: Iterator[bytes | memoryview], after_bytes: int | None) -> Iterator[bytes]:
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


def _short_page(body: bytes, n: int) -> bytes:
    """A page missing its last ``n`` records, with ``count`` matching and ``pagination`` untouched."""
    doc = orjson.loads(body)
    doc["data"] = doc["data"][: max(0, len(doc["data"]) - n)]
    doc["count"] = len(doc["data"])
    return orjson.dumps(doc)


# -- the app ------------------------------------------------------------------------------------------------
def create_app(config: SimulatorConfig | None = None, state: SimState | None = None) -> Starlette:
    """The simulator as an ASGI app (``app.state.sim`` is its :class:`SimState`)."""
    state = state or SimState(config or SimulatorConfig())
    cfg = state.config

    def check_auth(request: Request) -> None:
        aid, tok = request.headers.get("x-auth-id"), request.headers.get("x-auth-token")
        if not aid or not tok:
            raise ApiError(401, "authentication required: send the X-Auth-ID and X-Auth-Token headers")
        if aid != cfg.auth_id or tok != cfg.auth_token:
            raise ApiError(401, "invalid X-Auth-ID or X-Auth-Token")
        if request.path_params["auth_id"] != aid:
            raise ApiError(403, "the account id in the path does not match X-Auth-ID")

    async def handle(request: Request, endpoint: str) -> Response:
        q = dict(request.query_params)
        status = 500
        try:
            check_auth(request)
            page = None
            if endpoint in ("list", "search") and (q.get("page") or "").isdigit():
                page = int(q["page"])
            drop = None
            short_by = 0
            undercount = 0
            for f in state.take_faults(endpoint, page):
                if f.kind == "slow":
                    await asyncio.sleep(f.delay)
                elif f.kind == "status":
                    headers = {}
                    if f.retry_after is not None:
                        ra = f.retry_after
                        headers["Retry-After"] = str(int(ra) if float(ra).is_integer() else ra)
                    raise ApiError(f.status, f"injected fault: HTTP {f.status}", headers)
                elif f.kind == "truncate":
                    short_by = f.records
                elif f.kind == "undercount":
                    undercount = f.records
                else:
                    drop = f.after_bytes
            if endpoint == "export":
                sel = await anyio.to_thread.run_sync(_export_selection, state, q)
                now = state.now_epoch

                def chunks() -> Iterator[bytes | memoryview]:
                    yield state.dataset.header()
                    yield from state.dataset.csv_chunks(sel, now)

                status = 200
                return StreamingResponse(
                    _truncated(chunks(), drop),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="cdrs.csv"'},
                )
            if endpoint in ("list", "search"):
                fn, args = _list_body, (state, endpoint, q, undercount)
            elif endpoint == "recent":
                fn, args = _recent_body, (state, q)
            else:
                fn, args = _single_body, (state, request.path_params["call_id"])
            try:  # answered from caches in well under a millisecond: no thread hop
                with cached_only():
                    body = fn(*args)
            except Cold:
                body = await anyio.to_thread.run_sync(fn, *args)
            if short_by and endpoint in ("list", "search"):
                body = _short_page(body, short_by)
            status = 200
            if drop is not None:
                return StreamingResponse(
                    _truncated(iter([body]), drop),
                    media_type="application/json",
                    headers={"Content-Length": str(len(body))},
                )
            return Response(body, media_type="application/json")
        except ApiError as e:
            status = e.status
            return _error(e.status, e.message, e.headers)
        except Exception:  # a simulator bug must still answer like a server would
            log.exception("simulator error on %s", endpoint)
            status = 500
            return _error(500, "internal error in the simulator")
        finally:
            state.log.append((endpoint, q, status))

    def route(endpoint: str):
        async def view(request: Request) -> Response:
            return await handle(request, endpoint)

        return view

    # -- control API (loopback only) -------------------------------------------------------------------
    def loopback(request: Request) -> None:
        if request.client is None or request.client.host not in _LOOPBACK:
            raise ApiError(403, "the control API answers loopback clients only")

    async def control(request: Request) -> Response:
        try:
            loopback(request)
            path = request.url.path
            if path == "/_sim/faults" and request.method == "POST":
                try:
                    payload = orjson.loads(await request.body())
                    items = payload if isinstance(payload, list) else [payload]
                    added = [asdict(state.add_fault(**item)) for item in items]
                except (TypeError, ValueError) as e:
                    raise ApiError(400, f"invalid fault: {e}") from None
                return Response(orjson.dumps({"faults": added}), 201, media_type="application/json")
            if path == "/_sim/faults" and request.method == "DELETE":
                state.clear_faults()
                return Response(status_code=204)
            if path == "/_sim/faults":
                return Response(
                    orjson.dumps([asdict(f) for f in state.faults]), media_type="application/json"
                )
            if path == "/_sim/now" and request.method == "POST":
                try:
                    payload = orjson.loads(await request.body() or b"{}")
                    raw = payload.get("now")
                    state.set_now(datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None)
                except (AttributeError, TypeError, ValueError) as e:
                    raise ApiError(400, f'invalid body: expected {{"now": "<ISO 8601 UTC>"}} ({e})') from None
                return Response(orjson.dumps({"now": state.now.isoformat()}), media_type="application/json")
            if path == "/_sim/now":
                return Response(orjson.dumps({"now": state.now.isoformat()}), media_type="application/json")
            if path == "/_sim/requests":
                items = [{"endpoint": e, "query": qq, "status": s} for e, qq, s in list(state.log)]
                return Response(orjson.dumps(items), media_type="application/json")
            raise ApiError(404, f"no such control endpoint: {request.method} {path}")
        except ApiError as e:
            return _error(e.status, e.message)

    async def health(request: Request) -> Response:
        return Response(orjson.dumps({"status": "ok"}), media_type="application/json")

    base = "/api/v1/Account/{auth_id}/cdr"
    routes = [
        Route(base, route("list")),
        Route(base + "/", route("list")),  # a trailing slash is answered, not redirected
        Route(base + "/search", route("search")),
        Route(base + "/recent", route("recent")),
        Route(base + "/export", route("export")),
        Route(base + "/{call_id}", route("single")),
        Route("/_sim/faults", control, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/now", control, methods=["GET", "POST"]),
        Route("/_sim/requests", control, methods=["GET"]),
        Route("/_sim/health", health),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"no such endpoint: {request.url.path}")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"method {request.method} not allowed on {request.url.path}")

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: method_not_allowed})
    app.state.sim = state
    return app
