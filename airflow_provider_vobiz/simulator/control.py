"""The control API (loopback clients only): faults, the simulated clock, the request log, health."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError, error_response
from .state import SimState

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_Handler = Callable[[Request, SimState], Coroutine[Any, Any, Response]]


def _json(doc: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(doc), status, media_type="application/json")


async def _faults(request: Request, state: SimState) -> Response:
    if request.method == "POST":
        try:
            payload = orjson.loads(await request.body())
            items = payload if isinstance(payload, list) else [payload]
            added = [asdict(state.add_fault(**item)) for item in items]
        except (TypeError, ValueError) as e:
            raise ApiError(400, f"invalid fault: {e}") from None
        return _json({"faults": added}, 201)
    if request.method == "DELETE":
        state.clear_faults()
        return Response(status_code=204)
    return _json([asdict(f) for f in state.faults])


async def _now(request: Request, state: SimState) -> Response:
    if request.method == "POST":
        try:
            payload = orjson.loads(await request.body() or b"{}")
            raw = payload.get("now")
            state.set_now(datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None)
        except (AttributeError, TypeError, ValueError) as e:
            raise ApiError(400, f'invalid body: expected {{"now": "<ISO 8601 UTC>"}} ({e})') from None
    return _json({"now": state.now.isoformat()})


async def _requests(request: Request, state: SimState) -> Response:
    return _json([{"endpoint": e, "query": qq, "status": s} for e, qq, s in list(state.log)])


def control_routes(state: SimState) -> list[Route]:
    """``/_sim/faults``, ``/_sim/now``, ``/_sim/requests`` (loopback clients only) and ``/_sim/health``."""

    def loopback_only(handler: _Handler) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        async def view(request: Request) -> Response:
            try:
                if request.client is None or request.client.host not in _LOOPBACK:
                    raise ApiError(403, "the control API answers loopback clients only")
                return await handler(request, state)
            except ApiError as e:
                return error_response(e.status, e.message)

        return view

    async def health(request: Request) -> Response:
        return _json({"status": "ok"})

    return [
        Route("/_sim/faults", loopback_only(_faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/now", loopback_only(_now), methods=["GET", "POST"]),
        Route("/_sim/requests", loopback_only(_requests), methods=["GET"]),
        Route("/_sim/health", health),
    ]
