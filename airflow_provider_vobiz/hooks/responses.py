"""What a response of the Vobiz API means: success, a failure worth retrying, or a typed error.

Every message built here names the endpoint, the status, the API's own words and the request id, and passes
through the hook's ``scrub`` (the token hidden, phone numbers masked by :mod:`airflow_provider_vobiz.privacy`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from airflow_provider_vobiz.hooks.exceptions import (
    VobizApiError,
    VobizAuthError,
    VobizBadRequestError,
    VobizNotFoundError,
)
from airflow_provider_vobiz.hooks.retry import MessageFn, Retryable, parse_retry_after
from airflow_provider_vobiz.privacy import mask_text

#: Request ids are read from the first of these response headers that is present.
REQUEST_ID_HEADERS = ("x-request-id", "x-vobiz-request-id", "request-id")
#: What stands for the Auth Token in a message (a rule of its own: the token is a secret, not a number).
TOKEN_PLACEHOLDER = "***"


def scrub(text: str, token: str | None) -> str:
    """``text`` with the token hidden and phone numbers masked: API error bodies may echo a number filter."""
    if token and token in text:
        text = text.replace(token, TOKEN_PLACEHOLDER)
    return mask_text(text)


def request_id(response: httpx.Response) -> str | None:
    """The request id the API sent with ``response``, if any."""
    for name in REQUEST_ID_HEADERS:
        if response.headers.get(name):
            return response.headers[name]
    return None


def error_text(response: httpx.Response, scrub: Callable[[str], str]) -> str | None:
    """The API's own error message from a failed response (JSON ``error``/``message``/``detail``)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return scrub(text[:300]) if text else None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            error = error.get("message") or error.get("detail") or error
        message = body.get("message") or body.get("detail") or body.get("errors")
        if message and isinstance(error, str) and error and error != message:
            text = f"{message} ({error})"  # the sentence, then the API's error code
        else:
            text = message or error
        if text:
            return scrub(str(text)[:300])
    return scrub(str(body)[:300])


def compose(
    endpoint: str,
    what: str,
    detail: str,
    *,
    request_id: str | None = None,
    api_message: str | None = None,
) -> str:
    """``Vobiz API {endpoint} ({what}): {detail}``, the API's words and the request id (not yet scrubbed)."""
    msg = f"Vobiz API {endpoint} ({what}): {detail}"
    if api_message:
        msg += f"; the API said: {api_message}"
    if request_id:
        msg += f" [request id {request_id}]"
    return msg


def _error_class(status: int, reason: str, response: httpx.Response, conn_id: str) -> tuple[type, str]:
    """The typed error of a non-retryable status, and the reason extended with what to do about it."""
    if status in (401, 403):
        hint = (
            f"authentication failed: check the Auth ID (login) and Auth Token (password) of connection "
            f"{conn_id!r}"
        )
        return VobizAuthError, f"{reason}, {hint}"
    if status == 404:
        return VobizNotFoundError, reason
    if 400 <= status < 500:
        return VobizBadRequestError, reason
    # 1xx/3xx: redirects are never followed (they would carry the token elsewhere)
    location = response.headers.get("location")
    return VobizApiError, reason + (f" (redirect to {location} not followed)" if location else "")


def check_response(
    endpoint: str, what: str, response: httpx.Response, *, conn_id: str, scrub: Callable[[str], str]
) -> None:
    """Return on 2xx; raise :class:`Retryable` for 429/5xx and a typed error for any other status."""
    status = response.status_code
    if 200 <= status < 300:
        return
    rid = request_id(response)
    api_message = error_text(response, scrub)
    reason = f"HTTP {status} {response.reason_phrase}".strip()
    if status == 429 or status >= 500:
        raise Retryable(
            "rate_limit" if status == 429 else "server",
            reason,
            status=status,
            request_id=rid,
            api_message=api_message,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    cls, reason = _error_class(status, reason, response, conn_id)
    raise cls(
        scrub(compose(endpoint, what, reason, request_id=rid, api_message=api_message)),
        endpoint=endpoint,
        status=status,
        request_id=rid,
        api_message=api_message,
    )


def decode_json(response: httpx.Response, endpoint: str, what: str, message: MessageFn) -> Any:
    """The body of a successful response as JSON, or :class:`VobizApiError` if it is not JSON."""
    try:
        # Bytes that are not UTF-8 inside one record's string become lone surrogates, so the cdr layer
        # quarantines that record instead of the whole page failing to decode.
        return json.loads(response.content.decode("utf-8", "surrogateescape"))
    except ValueError:
        raise VobizApiError(
            message(endpoint, what, f"HTTP {response.status_code} with a body that is not JSON"),
            endpoint=endpoint,
            status=response.status_code,
            request_id=request_id(response),
        ) from None


def single_record(body: Any, call_id: str) -> Any:
    """The one CDR of the single-CDR endpoint's body: ``data`` (an object, or a list of exactly one)."""
    if isinstance(body, dict) and "data" in body and isinstance(body["data"], dict | list):
        data = body["data"]
        if isinstance(data, list):
            if len(data) != 1:
                raise VobizApiError(
                    f"Vobiz API single (call {call_id}): expected one CDR, got {len(data)}",
                    endpoint="single",
                )
            return data[0]
        return data
    return body
