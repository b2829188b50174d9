"""Day windows: which calls belong to a partition, and which API query covers them.

A partition is a calendar day, in a configurable timezone (default Asia/Kolkata), of a call's ``start_time``.
The API's ``start_date``/``end_date`` have an undocumented timezone and inclusivity, so the query is padded
by ``pad_days`` on each side and the window below keeps exactly the calls of the day: none lost at a day
boundary, none in two partitions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_vobiz.cdr.schema import START_TIME_SLACK_DAYS

UTC = dt.timezone.utc
#: The ingest re-pulls this many days before its own day, so late CDRs restate them (the re-pull window).
DEFAULT_REPULL_DAYS = 3
#: What a report of days says while late CDRs can still change one of them, and once none can.
PROVISIONAL = "provisional"
FINAL = "final"


def settled_from(last_day: dt.date, repull_days: int = DEFAULT_REPULL_DAYS) -> dt.date:
    """The first (local) day on which no day up to ``last_day`` is re-pulled any more.

    The ingest run of day ``D`` (at the start of ``D + 1``) re-pulls ``D - 1 … D - repull_days``, so
    ``last_day`` can change until the run of ``last_day + repull_days``, at the start of
    ``last_day + repull_days + 1``. One more day of margin covers a run that starts late.
    """
    if repull_days < 0:
        raise ValueError(f"repull_days must be >= 0, got {repull_days}")
    return last_day + dt.timedelta(days=repull_days + 2)


def status_on(last_day: dt.date, today: dt.date, repull_days: int = DEFAULT_REPULL_DAYS) -> str:
    """``final`` when no day up to ``last_day`` is inside the re-pull window on ``today``, else
    ``provisional``."""
    return FINAL if today >= settled_from(last_day, repull_days) else PROVISIONAL


def local_today(timezone: str) -> dt.date:
    """Today's date in ``timezone`` (the reports' calendar)."""
    return dt.datetime.now(zone(timezone)).date()


def parse_day(value: dt.date | dt.datetime | str, what: str = "call_date") -> dt.date:
    """A calendar day from a date, a datetime (its date) or ``YYYY-MM-DD``.

    :param what: the name the error message gives the value (``as_of``, ...).
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{what} must be a calendar day (YYYY-MM-DD), got {value!r}") from None


def zone(name: str) -> ZoneInfo:
    """The IANA timezone ``name``, with a clear error for a typo."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r} (use an IANA name such as Asia/Kolkata or UTC)"
        ) from None


@dataclass(frozen=True)
class DayWindow:
    """The calls of ``call_date`` in ``timezone``: ``start <= start_time < end`` (both UTC)."""

    call_date: dt.date
    timezone: str
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def for_day(cls, call_date: dt.date | str, timezone: str) -> DayWindow:
        day = parse_day(call_date)
        tz = zone(timezone)
        # Midnight to the next midnight in local time: 23 or 25 hours on a DST change, never 24 by fiat.
        start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(UTC)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(UTC)
        return cls(call_date=day, timezone=str(timezone), start=start, end=end)

    def contains(self, ts: dt.datetime) -> bool:
        return self.start <= ts.astimezone(UTC) < self.end

    def query_dates(self, pad_days: int = 1) -> tuple[dt.date, dt.date]:
        """``(start_date, end_date)`` of the API query: ``call_date`` padded by ``pad_days`` each side.

        One day of padding covers the window whatever timezone (UTC to UTC+14 or -12) the API filters in.
        """
        if pad_days < 0:
            raise ValueError(f"pad_days must be >= 0, got {pad_days}")
        pad = dt.timedelta(days=pad_days)
        return self.call_date - pad, self.call_date + pad

    def query_filters(self, pad_days: int = 1) -> dict[str, str]:
        """The API filters of the padded query."""
        first, last = self.query_dates(pad_days)
        return {"start_date": first.isoformat(), "end_date": last.isoformat()}

    def plausible_starts(self, pad_days: int = 1) -> tuple[dt.datetime, dt.datetime]:
        """``[lo, hi)`` in UTC: the start_times a record of the padded query can have.

        The query's dates, read in any timezone the API might use, widened by ``START_TIME_SLACK_DAYS``.
        A record outside is not a call the query asked for (a 1970 or 2099 start_time): it is quarantined,
        not silently dropped as "outside the window".
        """
        first, last = self.query_dates(pad_days)
        slack = dt.timedelta(days=START_TIME_SLACK_DAYS)
        lo = dt.datetime.combine(first, dt.time(0), tzinfo=UTC) - slack
        hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=UTC) + slack
        return lo, hi

    def as_json(self) -> dict[str, str]:
        return {"start": iso_utc(self.start), "end": iso_utc(self.end)}


def iso_utc(ts: dt.datetime, timespec: str | None = None) -> str:
    """``2026-05-11T06:59:31Z`` (microseconds only when present, unless ``timespec`` says)."""
    ts = ts.astimezone(UTC)
    text = ts.isoformat(timespec=timespec or ("microseconds" if ts.microsecond else "seconds"))
    return text.replace("+00:00", "Z")


def utc_now_iso(timespec: str = "seconds") -> str:
    """Now in UTC as ``2026-05-11T06:59:31Z``: the one spelling of a timestamp in manifests and reports."""
    return iso_utc(dt.datetime.now(UTC), timespec)
