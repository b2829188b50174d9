"""The retention window: the one definition of which days the lake must keep on a given day.

The retention report, Object Lock, the lifecycle rule, the purge and the Compliance page all use it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

DEFAULT_RETENTION_YEARS = 2
DEFAULT_GRACE_DAYS = 30
DEFAULT_TIMEZONE = "Asia/Kolkata"


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` shifted by whole calendar years. 29 February's anniversary in a year without one is 1 March
    (the day after 28 February), so a window that starts on an anniversary never starts early."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def retention_window(as_of: dt.date, years: int = DEFAULT_RETENTION_YEARS) -> tuple[dt.date, dt.date]:
    """``(start, end)``, both inclusive: from ``as_of`` minus ``years`` calendar years to ``as_of - 1``.

    With two years that is 731 days exactly when the window holds a 29 February, else 730.
    """
    if years < 1:
        raise ValueError(f"retention years must be at least 1, got {years}")
    return add_years(as_of, -years), as_of - dt.timedelta(days=1)


def in_window(call_date: dt.date, as_of: dt.date, years: int = DEFAULT_RETENTION_YEARS) -> bool:
    """Whether the retention window of ``as_of`` holds ``call_date``."""
    start, end = retention_window(as_of, years)
    return start <= call_date <= end


def expires_on(call_date: dt.date, years: int = DEFAULT_RETENTION_YEARS) -> dt.date:
    """The first as-of date whose window no longer holds ``call_date`` (the day may be deleted from then).

    Usually the day after ``call_date``'s anniversary; for 29 February it is that 1 March anniversary itself
    when the year has no 29 February (its window started on 1 March, two years earlier, after the day).
    """
    as_of = add_years(call_date, years)
    # The window's start only moves forward with as_of: step to the first one that starts after call_date.
    while retention_window(as_of, years)[0] <= call_date:
        as_of += dt.timedelta(days=1)
    return as_of


def retain_until(
    call_date: dt.date, years: int = DEFAULT_RETENTION_YEARS, timezone: str = DEFAULT_TIMEZONE
) -> dt.datetime:
    """Object Lock date of a partition: midnight (in its timezone) of the day it leaves the window, in UTC."""
    local = dt.datetime.combine(expires_on(call_date, years), dt.time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.timezone.utc)
