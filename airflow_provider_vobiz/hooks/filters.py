"""Checks the CDR query filters before any request is sent, and turns them into query parameters.

The API documents: from_number, to_number, start_date/end_date (YYYY-MM-DD, each requires the other),
call_direction (inbound|outbound), min_duration (seconds), page, per_page (max 100), limit (recent only).
A mistake here must fail at once with a message that says what to change, not as a 400 after a retry loop,
and never silently (a misspelt filter name would otherwise widen the query to the whole account).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from airflow_provider_vobiz.privacy import mask_number

FILTER_NAMES: tuple[str, ...] = (
    "from_number",
    "to_number",
    "start_date",
    "end_date",
    "call_direction",
    "min_duration",
)
CALL_DIRECTIONS: tuple[str, ...] = ("inbound", "outbound")
MAX_PER_PAGE = 100
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _as_date(name: str, value: Any) -> date:
    if isinstance(value, datetime):
        # A datetime's time and timezone would be dropped without a word: the API filters by calendar day.
        raise ValueError(
            f"{name} must be a calendar date (datetime.date or 'YYYY-MM-DD'), not a datetime ({value!r}): "
            "the API filters by day, so convert to the day you mean in your timezone first"
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{name} must be a date or a 'YYYY-MM-DD' string, got {value!r}")


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value.strip())
    raise ValueError(f"{name} must be an integer, got {value!r}")


def build_filter_params(**filters: Any) -> dict[str, str]:
    """Validate the filters of list, search and export, and return them as query parameters.

    ``None`` means "no filter". Unknown names, an unpaired or reversed date range, an unknown direction and a
    negative min_duration raise :class:`ValueError`.
    """
    unknown = sorted(set(filters) - set(FILTER_NAMES))
    if unknown:
        raise ValueError(f"unknown CDR filter(s) {unknown}; the API accepts {list(FILTER_NAMES)}")
    given = {k: v for k, v in filters.items() if v is not None}
    params: dict[str, str] = {}

    for name in ("from_number", "to_number"):
        if name in given:
            value = given[name]
            if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
                raise ValueError(
                    f"{name} must be a non-empty phone number string without spaces, got {value!r}"
                )
            params[name] = value.strip()

    has_start, has_end = "start_date" in given, "end_date" in given
    if has_start != has_end:
        missing, present = ("end_date", "start_date") if has_start else ("start_date", "end_date")
        raise ValueError(f"{present} requires {missing}: the API accepts a date range only as a pair")
    if has_start:
        start = _as_date("start_date", given["start_date"])
        end = _as_date("end_date", given["end_date"])
        if start > end:
            raise ValueError(f"start_date {start.isoformat()} is after end_date {end.isoformat()}")
        params["start_date"] = start.isoformat()
        params["end_date"] = end.isoformat()

    if "call_direction" in given:
        direction = given["call_direction"]
        if direction not in CALL_DIRECTIONS:
            raise ValueError(f"call_direction must be one of {list(CALL_DIRECTIONS)}, got {direction!r}")
        params["call_direction"] = direction

    if "min_duration" in given:
        seconds = _as_int("min_duration", given["min_duration"])
        if seconds < 0:
            raise ValueError(f"min_duration must be >= 0 seconds, got {seconds}")
        params["min_duration"] = str(seconds)
    return params


#: A call id is the CDR's ``uuid``: letters, digits, ``-`` and ``_`` only, so that no ``.``, ``/``, ``%`` or
#: whitespace ever reaches the request URL (``.``/``..`` would name another endpoint after normalisation).
CALL_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def check_call_id(call_id: Any) -> str:
    """Validate a call id for ``/cdr/{call_id}``: 1-64 letters, digits, ``-`` or ``_``, starting alphanumeric.

    :raises ValueError: naming what a call id may hold (the value itself is not echoed: it may be anything).
    """
    if not isinstance(call_id, str) or not CALL_ID_PATTERN.fullmatch(call_id):
        raise ValueError("a call id is 1-64 letters, digits, '-' or '_' (a UUID, as in the call logs)")
    return call_id


def check_page(page: Any, per_page: Any) -> tuple[int, int]:
    """Validate ``page`` (>= 1) and ``per_page`` (1..100)."""
    page = _as_int("page", page)
    per_page = _as_int("per_page", per_page)
    if page < 1:
        raise ValueError(f"page must be >= 1, got {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
    return page, per_page


def check_limit(limit: Any) -> int:
    """Validate the ``limit`` of the recent endpoint (>= 1)."""
    limit = _as_int("limit", limit)
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    return limit


def describe(params: dict[str, str]) -> str:
    """The query for messages and logs; phone numbers (personal data) show only their last four digits."""
    shown = []
    for key, value in params.items():
        if key in ("from_number", "to_number"):
            value = mask_number(value)
        shown.append(f"{key}={value}")
    return ", ".join(shown) or "no filters"
