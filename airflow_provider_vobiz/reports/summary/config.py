"""The summary report's settings and the conventions it states: hangup classes, number series, the window."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

REPORT_NAME = "trai_summary"
REPORT_TITLE = "TRAI summary report"

#: Hangup classes (docs/summary.md, "What it contains"); any other cause is class K.
DEFAULT_HANGUP_CLASSES: dict[str, str] = {
    **dict.fromkeys(("USER_BUSY", "NO_ANSWER", "CALL_REJECTED", "REJECTED", "ORIGINATOR_CANCEL"), "U"),
    **dict.fromkeys(("INVALID_NUMBER", "UNALLOCATED_NUMBER"), "D"),
    **dict.fromkeys(
        (
            "SERVICE_UNAVAILABLE",
            "SERVER_ERROR",
            "MEDIA_TIMEOUT",
            "PROTOCOL_ERROR",
            "NETWORK_OUT_OF_ORDER",
            "DESTINATION_OUT_OF_ORDER",
            "NORMAL_TEMPORARY_FAILURE",
            "SWITCH_CONGESTION",
        ),
        "X",
    ),
}
HANGUP_CLASS_NAMES = {"U": "user-determined", "D": "number", "X": "network or platform", "K": "unknown/other"}
#: CLIs of the 140xx (promotional) and 1600/1601 (service, transactional) series, with or without +91 / 0.
DEFAULT_SERIES_PATTERN = r"^(\+91|0)?(140|160[01])"
#: Worst first: a day never validated ranks above one validated with warnings.
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


@dataclass(frozen=True)
class SummaryConfig:
    """What the report's thresholds and conventions are (all stated in the report).

    :param timezone: the timezone of the calling-hours window (partitions are already days in it).
    :param calling_window: permitted local hours for promotional calls, ``("HH:MM", "HH:MM")``, [start, end).
    :param hangup_classes: ``cause -> U | D | X``; any other cause is K.
    :param campaigns_presumed_promotional: campaign calls are treated as promotional (calling hours, series).
    :param ucc_min_volume: a CLI is flagged only from this many outbound calls in a day.
    :param ucc_short_seconds: "short" answered calls last less than this.
    :param ucc_short_share: flag when the share of short answered calls is at least this.
    :param ucc_max_in_out_ratio: flag when inbound/outbound calls of the CLI is at most this.
    :param top_causes: how many hangup causes get a diagnosis in the report.
    """

    timezone: str = "Asia/Kolkata"
    calling_window: tuple[str, str] = ("10:00", "21:00")
    hangup_classes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HANGUP_CLASSES))
    campaigns_presumed_promotional: bool = True
    series_pattern: str = DEFAULT_SERIES_PATTERN
    ucc_min_volume: int = 100
    ucc_short_seconds: int = 10
    ucc_short_share: float = 0.5
    ucc_max_in_out_ratio: float = 0.05
    setup_success_reference: float = 0.98
    dropped_call_reference: float = 0.02
    top_causes: int = 5

    def __post_init__(self) -> None:
        start, end = (self._minutes(v) for v in self.calling_window)
        if start >= end:
            raise ValueError(f"calling_window start must be before end, got {self.calling_window!r}")
        bad = {c: k for c, k in self.hangup_classes.items() if k not in ("U", "D", "X", "K")}
        if bad:
            raise ValueError(f"hangup classes must be U, D, X or K; got {bad}")
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(self.timezone)
        except Exception:
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        re.compile(self.series_pattern)
        if self.ucc_short_seconds < 1 or self.ucc_min_volume < 1:
            raise ValueError("ucc_short_seconds and ucc_min_volume must be at least 1")

    @staticmethod
    def _minutes(hhmm: str) -> int:
        m = _HHMM.match(str(hhmm))
        if not m:
            raise ValueError(f"calling_window times must be HH:MM (00:00-24:00), got {hhmm!r}")
        return 24 * 60 if hhmm == "24:00" else int(m[1]) * 60 + int(m[2])

    @property
    def window_minutes(self) -> tuple[int, int]:
        """The calling window as minutes after local midnight, ``[start, end)``."""
        return self._minutes(self.calling_window[0]), self._minutes(self.calling_window[1])

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SummaryConfig:
        """Build from a plain dict (operator params); unknown keys are an error, not silently ignored."""
        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown summary settings {unknown}; known: {sorted(known)}")
        if "calling_window" in values:
            values["calling_window"] = tuple(values["calling_window"])
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The settings as the report states them (plain JSON values, classes sorted)."""
        d = asdict(self)
        d["calling_window"] = list(self.calling_window)
        d["hangup_classes"] = dict(sorted(self.hangup_classes.items()))
        return d
