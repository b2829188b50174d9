"""The simulator as an ASGI app: the CDR endpoints (:mod:`.endpoints`) and the control API (:mod:`.control`).

Faults are in :mod:`.faults`, parameter validation in :mod:`.params`, the shared state in :mod:`.state`.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .config import SimulatorConfig
from .control import control_routes
from .endpoints import cdr_routes
from .endpoints import page_positions as _page_positions
from .errors import ApiError, error_response
from .faults import ENDPOINTS, FAULT_KINDS, DropConnection, Fault
from .params import MAX_LIMIT, MAX_PER_PAGE, parse_filters
from .state import SimState


def create_app(config: SimulatorConfig | None = None, state: SimState | None = None) -> Starlette:
    """The simulator as an ASGI app (``app.state.sim`` is its :class:`SimState`)."""
    state = state or SimState(config or SimulatorConfig())

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(404, f"no such endpoint: {request.url.path}")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, f"method {request.method} not allowed on {request.url.path}")

    app = Starlette(
        routes=[*cdr_routes(state), *control_routes(state)],
        exception_handlers={404: not_found, 405: method_not_allowed},
    )
    app.state.sim = state
    return app


__all__ = [
    "ENDPOINTS",
    "FAULT_KINDS",
    "MAX_LIMIT",
    "MAX_PER_PAGE",
    "ApiError",
    "DropConnection",
    "Fault",
    "SimState",
    "_page_positions",
    "create_app",
    "parse_filters",
]
