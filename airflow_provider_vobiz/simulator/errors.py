"""The API's error answers: the exception an endpoint raises, and the JSON body a client receives."""

from __future__ import annotations

import orjson
from starlette.responses import Response


class ApiError(Exception):
    """An error answer: ``status`` with the API's JSON error body and, optionally, headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


_REASON = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests",
           500: "internal_server_error", 502: "bad_gateway", 503: "service_unavailable"}  # fmt: skip


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """``{"success": false, "error": <reason>, "message": ...}`` with ``status``."""
    body = {"success": False, "error": _REASON.get(status, "error"), "message": message}
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")
