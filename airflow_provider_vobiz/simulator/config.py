"""The simulator's configuration: what data it serves and which test knobs are on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

#: Calls are generated per calendar day in India Standard Time (where Vobiz's customers are).
IST = ZoneInfo("Asia/Kolkata")
TIMEZONES = ("UTC", "Asia/Kolkata")
_AUTH_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
#: How a malformed record is served. Each kind has a JSON (list/search) and a CSV (export) form:
#: ``wrong_type``: duration is "abc"; ``missing_field``: hangup_cause absent (an empty CSV cell);
#: ``bad_shape``: JSON an array of the values instead of an object, CSV one cell too many;
#: ``short_row``: JSON a bare string, CSV the row cut after half its cells;
#: ``invalid_utf8``: a 0xFF byte inside caller_id_name; ``oversized``: failure_reason of
#: ``malformed_field_bytes`` bytes; ``non_finite``: mos NaN and jitter Infinity (CSV ``NaN``, ``inf``);
#: ``start_1970`` / ``start_2099``: start_time on 1 January of that year.
MALFORMED_KINDS = (
    "wrong_type",
    "missing_field",
    "bad_shape",
    "short_row",
    "invalid_utf8",
    "oversized",
    "non_finite",
    "start_1970",
    "start_2099",
)


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that determines the simulator's responses (same config: byte-identical responses).

    :param auth_id: the account id: the ``X-Auth-ID`` header, the ``{auth_id}`` in the path, every record's
        ``account_id``.
    :param auth_token: the ``X-Auth-Token`` header.
    :param seed: random seed of the synthetic data.
    :param start_date: first day of calls (a calendar day in Asia/Kolkata).
    :param days: number of days of calls.
    :param calls_per_day: calls on each day.
    :param date_filter_timezone: how ``start_date``/``end_date`` are read: ``UTC`` or ``Asia/Kolkata``.
    :param now: the simulated clock (UTC); a record is visible once ``now`` reaches its ``created_at``.
        Default: the end of the last day plus one day (everything visible).
    :param late_fraction: share of each day's calls whose CDR is created only ``late_delay`` after the call.
    :param late_delay: how late the late CDRs are.
    :param updated_fraction: share of calls that get a later ``updated_at`` with changed values.
    :param duplicate_across_pages: list/search repeat one record on two consecutive pages.
    :param extra_field: name of an undocumented field added to every record (JSON and CSV).
    :param malformed_records: per day, records served malformed, taking ``malformed_kinds`` in turn.
    :param malformed_kinds: which kinds of malformed record (see :data:`MALFORMED_KINDS`).
    :param malformed_field_bytes: the size of the ``oversized`` kind's field (default 10 MiB: longer than two of a
        CSV reader's usual block).
    :param hostile_records: per day, records whose free-text fields hold legal but hostile values: thousands
        of characters, HTML markup, spreadsheet formulas, control characters, phone numbers inside other
        fields, CR, LF, quotes and commas that the export CSV quotes (see ``malformed.HOSTILE_VALUES``).
        Their uuid, direction, caller number, currency, times and numbers stay valid, so they pass the
        quality suite's critical checks. A record picked as malformed is not also hostile.
    :param multiline_records: per day, records whose free-text fields hold CR, LF or CRLF, quotes and commas,
        within every field's size limit (see ``malformed.MULTILINE_VALUES``): legal values that the export CSV
        quotes (RFC 4180) and that a reader blind to quoted newlines splits. Not also malformed or hostile.
    :param api_retention_days: if set, a ``start_date`` older than ``now - N days`` is a 400.
    :param cache_mb: memory budget for rendered blocks of records.
    """

    auth_id: str = "MA_DEMO0001"
    auth_token: str = "demo-token-0001"
    seed: int = 7
    start_date: date = date(2026, 3, 1)
    days: int = 31
    calls_per_day: int = 2000
    date_filter_timezone: str = "Asia/Kolkata"
    now: datetime | None = None
    late_fraction: float = 0.0
    late_delay: timedelta = field(default=timedelta(hours=6))
    updated_fraction: float = 0.0
    duplicate_across_pages: bool = False
    extra_field: str | None = None
    malformed_records: int = 0
    hostile_records: int = 0
    multiline_records: int = 0
    malformed_kinds: tuple[str, ...] = ("wrong_type", "missing_field")
    malformed_field_bytes: int = 10 << 20
    api_retention_days: int | None = None
    cache_mb: int = 256

    def __post_init__(self) -> None:
        if not _AUTH_ID.match(self.auth_id or ""):
            raise ValueError(f"auth_id must be 1-64 letters, digits, '_' or '-', got {self.auth_id!r}")
        if not self.auth_token:
            raise ValueError("auth_token must not be empty")
        if self.days < 1:
            raise ValueError(f"days must be >= 1, got {self.days}")
        if self.calls_per_day < 0:
            raise ValueError(f"calls_per_day must be >= 0, got {self.calls_per_day}")
        if self.date_filter_timezone not in TIMEZONES:
            raise ValueError(
                f"date_filter_timezone must be one of {TIMEZONES}, got {self.date_filter_timezone!r}"
            )
        for name in ("late_fraction", "updated_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {v}")
        if self.late_delay < timedelta(0):
            raise ValueError("late_delay must not be negative")
        if self.malformed_records < 0 or self.malformed_records > self.calls_per_day:
            raise ValueError(
                f"malformed_records must be within [0, calls_per_day], got {self.malformed_records}"
            )
        for name in ("hostile_records", "multiline_records"):
            if not 0 <= getattr(self, name) <= self.calls_per_day:
                raise ValueError(f"{name} must be within [0, calls_per_day], got {getattr(self, name)}")
        unknown = [k for k in self.malformed_kinds if k not in MALFORMED_KINDS]
        if unknown or not self.malformed_kinds:
            raise ValueError(
                f"malformed_kinds must be some of {MALFORMED_KINDS}, got {self.malformed_kinds!r}"
            )
        if self.malformed_field_bytes < 1:
            raise ValueError("malformed_field_bytes must be >= 1")
        if self.extra_field is not None and not re.match(r"^[a-z_][a-z0-9_]*$", self.extra_field):
            raise ValueError(f"extra_field must be a snake_case name, got {self.extra_field!r}")
        if self.api_retention_days is not None and self.api_retention_days < 1:
            raise ValueError("api_retention_days must be >= 1")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")

    @property
    def first_epoch(self) -> int:
        """Start of the first day (00:00 IST) in epoch seconds."""
        return int(datetime.combine(self.start_date, time(0), IST).timestamp())

    @property
    def end_epoch(self) -> int:
        """End of the last day (exclusive) in epoch seconds."""
        return self.first_epoch + self.days * 86400

    @property
    def default_now(self) -> datetime:
        return datetime.fromtimestamp(self.end_epoch + 86400, tz=timezone.utc)

    @property
    def effective_now(self) -> datetime:
        return (self.now or self.default_now).astimezone(timezone.utc)
