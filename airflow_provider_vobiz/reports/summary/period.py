"""Periods of the summary report (a day or a month) and whether a period's report can still change."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from airflow_provider_vobiz.cdr.window import DEFAULT_REPULL_DAYS, settled_from, status_on

_PERIOD_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PERIOD_MONTH = re.compile(r"^\d{4}-\d{2}$")


def parse_period(period: str) -> tuple[str, list[dt.date]]:
    """``"YYYY-MM-DD"`` -> ("day", [d]); ``"YYYY-MM"`` -> ("month", every day of the month)."""
    period = str(period).strip()
    try:
        if _PERIOD_DAY.match(period):
            return "day", [dt.date.fromisoformat(period)]
        if _PERIOD_MONTH.match(period):
            year, month = int(period[:4]), int(period[5:])
            n = calendar.monthrange(year, month)[1]
            return "month", [dt.date(year, month, d) for d in range(1, n + 1)]
    except ValueError:
        pass
    raise ValueError(f"period must be a day YYYY-MM-DD or a month YYYY-MM, got {period!r}")


def previous_month(day: dt.date) -> str:
    """The month before ``day``'s, as ``YYYY-MM``."""
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def final_from(period: str, repull_days: int = DEFAULT_REPULL_DAYS) -> dt.date:
    """The first day (local) on which a report of ``period`` is ``final`` (:func:`cdr.window.settled_from`
    of its last day)."""
    _, days = parse_period(period)
    return settled_from(days[-1], repull_days)


def report_status(period: str, today: dt.date, repull_days: int = DEFAULT_REPULL_DAYS) -> str:
    """``final`` when no day of ``period`` is inside the re-pull window as of ``today`` (local), else
    ``provisional``."""
    _, days = parse_period(period)
    return status_on(days[-1], today, repull_days)
