"""The endpoints' query parameters: validation with the API's messages, and the filters they make."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .data import Filters, day_window
from .errors import ApiError
from .state import SimState

MAX_PER_PAGE = 100
MAX_LIMIT = 1000
_INT = re.compile(r"^[0-9]{1,9}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def int_param(
    q: dict[str, str], name: str, default: int | None, lo: int, hi: int | None = None
) -> int | None:
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


def date_param(q: dict[str, str], name: str) -> date | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a date in YYYY-MM-DD format, got {raw!r}") from None


def phone_param(q: dict[str, str], name: str) -> tuple[int | None, str | None]:
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
    frm, frm_s = phone_param(q, "from_number")
    to, to_s = phone_param(q, "to_number")
    if frm_s:
        echo["from_number"] = frm_s
    if to_s:
        echo["to_number"] = to_s
    sd, ed = date_param(q, "start_date"), date_param(q, "end_date")
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
    md = int_param(q, "min_duration", None, 0)
    if md is not None:
        echo["min_duration"] = md
    return Filters(frm, to, lo, hi, dir_code, md), echo
