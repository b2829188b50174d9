"""The five documented CDR endpoints: authentication, the bodies they answer, faults applied on the way.

Semantics the documentation leaves open, as decided here (docs/sim.md says the same):

* list/search order: ``start_time`` descending, then ``id`` descending (newest first: the documented example's
  first record is the one ``summary.last_call_at`` names); recent: the same order; export: ascending.
* ``start_date``/``end_date`` are inclusive calendar days of ``start_time`` in the configured timezone.
* ``per_page`` > 100 is a 400; a page beyond the last is ``data: []`` with correct pagination.
* ``/{call_id}`` takes a uuid (or the numeric id) and answers ``{"account_id", "data": {CDR}, "success"}``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import anyio.to_thread
import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .config import SimulatorConfig
from .data import Cold, Filters, Selection, cached_only
from .errors import ApiError, error_response
from .faults import FaultEffects, apply_faults, short_page, truncated
from .params import MAX_LIMIT, MAX_PER_PAGE, int_param, parse_filters
from .state import SimState

log = logging.getLogger(__name__)


def page_positions(n: int, page: int, per_page: int, drift: bool) -> tuple[np.ndarray, int]:
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
    page = int_param(q, "page", 1, 1)
    per_page = int_param(q, "per_page", 20, 1, MAX_PER_PAGE)
    now = state.now_epoch
    ds = state.dataset
    sel = ds.select(f, now)
    listed = max(0, len(sel) - undercount)  # an undercount drops the newest calls from the listing
    pos, pages = page_positions(listed, page, per_page, state.config.duplicate_across_pages)
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
    limit = int_param(q, "limit", 20, 1, MAX_LIMIT)
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


def check_auth(cfg: SimulatorConfig, request: Request) -> None:
    """The account's two headers, and the account id in the path matching them."""
    aid, tok = request.headers.get("x-auth-id"), request.headers.get("x-auth-token")
    if not aid or not tok:
        raise ApiError(401, "authentication required: send the X-Auth-ID and X-Auth-Token headers")
    if aid != cfg.auth_id or tok != cfg.auth_token:
        raise ApiError(401, "invalid X-Auth-ID or X-Auth-Token")
    if request.path_params["auth_id"] != aid:
        raise ApiError(403, "the account id in the path does not match X-Auth-ID")


async def handle(state: SimState, request: Request, endpoint: str) -> Response:
    """One request to ``endpoint``: authenticated, its faults applied, answered, and logged."""
    q = dict(request.query_params)
    status = 500
    try:
        check_auth(state.config, request)
        page = None
        if endpoint in ("list", "search") and (q.get("page") or "").isdigit():
            page = int(q["page"])
        effects = await apply_faults(state.take_faults(endpoint, page))
        if endpoint == "export":
            response = await _export(state, q, effects.drop)
        else:
            response = await _json_answer(state, request, endpoint, q, effects)
        status = 200
        return response
    except ApiError as e:
        status = e.status
        return error_response(e.status, e.message, e.headers)
    except Exception:  # a simulator bug must still answer like a server would
        log.exception("simulator error on %s", endpoint)
        status = 500
        return error_response(500, "internal error in the simulator")
    finally:
        state.log.append((endpoint, q, status))


async def _export(state: SimState, q: dict[str, str], drop: int | None) -> Response:
    """The selection as one streamed CSV (rendered on a thread, a block ahead of what is sent)."""
    sel = await anyio.to_thread.run_sync(_export_selection, state, q)
    now = state.now_epoch

    def chunks() -> Iterator[bytes | memoryview]:
        yield state.dataset.header()
        yield from state.dataset.csv_chunks(sel, now)

    return StreamingResponse(
        truncated(chunks(), drop),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cdrs.csv"'},
    )


async def _json_answer(
    state: SimState, request: Request, endpoint: str, q: dict[str, str], effects: FaultEffects
) -> Response:
    """list, search, recent or single: the JSON body, from caches on the event loop when it can be."""
    if endpoint in ("list", "search"):
        fn, args = _list_body, (state, endpoint, q, effects.undercount)
    elif endpoint == "recent":
        fn, args = _recent_body, (state, q)
    else:
        fn, args = _single_body, (state, request.path_params["call_id"])
    try:  # answered from caches in well under a millisecond: no thread hop
        with cached_only():
            body = fn(*args)
    except Cold:
        body = await anyio.to_thread.run_sync(fn, *args)
    if effects.short_by and endpoint in ("list", "search"):
        body = short_page(body, effects.short_by)
    if effects.drop is not None:
        return StreamingResponse(
            truncated(iter([body]), effects.drop),
            media_type="application/json",
            headers={"Content-Length": str(len(body))},
        )
    return Response(body, media_type="application/json")


def cdr_routes(state: SimState) -> list[Route]:
    """The routes of the five endpoints under ``/api/v1/Account/{auth_id}/cdr``."""

    def route(endpoint: str) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        async def view(request: Request) -> Response:
            return await handle(state, request, endpoint)

        return view

    base = "/api/v1/Account/{auth_id}/cdr"
    return [
        Route(base, route("list")),
        Route(base + "/", route("list")),  # a trailing slash is answered, not redirected
        Route(base + "/search", route("search")),
        Route(base + "/recent", route("recent")),
        Route(base + "/export", route("export")),
        Route(base + "/{call_id}", route("single")),
    ]
