"""What the compliance page shows: the reports of the lake, read-only, without Airflow.

The catalog lists the report folders the report DAGs wrote (``LakeLayout`` knows where), reads their small
JSON renderings for the key figures, and resolves a requested report to exactly one object key under the
reports prefix. Anything else (another bucket, another prefix, ``..``, an unknown format) is refused before
S3 is asked.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_vobiz.lake.paths import REPORT_CONTENT_TYPES, REPORT_FORMATS, LakeLayout
from airflow_provider_vobiz.text_values import int_or_none

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)

Kind = Literal["summary", "retention"]
KINDS: tuple[str, ...] = ("summary", "retention")

#: Stricter than the lake's own check: no dot-only names, which some tools treat as path steps.
_ACCOUNT_RE = re.compile(r"^(?!\.+$)[A-Za-z0-9_.-]{1,64}$")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DAY_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")

MEDIA_TYPES = REPORT_CONTENT_TYPES

#: How many report JSON files are fetched at once (each is a small GET).
_READ_CONCURRENCY = 8


class ReportNotFound(LookupError):
    """The request names a valid report that the lake does not hold."""


class InvalidReportRequest(ValueError):
    """The request does not name a report: bad account, period, kind or format."""


def check_account(account_id: str) -> str:
    if not isinstance(account_id, str) or not _ACCOUNT_RE.match(account_id):
        raise InvalidReportRequest("account id must be 1-64 letters, digits, '_', '.' or '-'")
    return account_id


def check_period(kind: str, period: str) -> str:
    """A summary period is ``YYYY-MM`` or ``YYYY-MM-DD``; a retention report is dated ``YYYY-MM-DD``."""
    ok = bool(_DAY_RE.match(period or "")) or (kind == "summary" and bool(_MONTH_RE.match(period or "")))
    if ok and len(period) == 10:
        try:
            dt.date.fromisoformat(period)
        except ValueError:
            ok = False
    if not ok:
        want = "YYYY-MM or YYYY-MM-DD" if kind == "summary" else "YYYY-MM-DD"
        raise InvalidReportRequest(f"{kind} report period must be {want}")
    return period


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidReportRequest(f"report kind must be one of {', '.join(KINDS)}")
    return kind


def check_format(fmt: str) -> str:
    if fmt not in REPORT_FORMATS:
        raise InvalidReportRequest(f"report format must be one of {', '.join(REPORT_FORMATS)}")
    return fmt


def download_name(kind: str, account_id: str, period: str, fmt: str) -> str:
    """A file name that says what the file is, e.g. ``trai_summary_MA_1_2026-05.pdf``."""
    return f"trai_{kind}_{account_id}_{period}.{fmt}"


def _hive_value(prefix: str, name: str) -> str | None:
    """``x`` from a listed folder ``.../name=x/``."""
    last = prefix.rstrip("/").rsplit("/", 1)[-1]
    key, sep, value = last.partition("=")
    return value if sep and key == name and value else None


def _as_float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class DagRunRef:
    dag_id: str
    run_id: str

    @classmethod
    def from_json(cls, value: Any) -> DagRunRef | None:
        if isinstance(value, dict) and value.get("dag_id") and value.get("run_id"):
            return cls(dag_id=str(value["dag_id"]), run_id=str(value["run_id"]))
        return None


@dataclass
class SummaryRow:
    """One summary report (a month or a day) with the figures an officer scans for."""

    account_id: str
    period: str
    period_kind: str
    formats: list[str]
    calls: int | None = None
    answered: int | None = None
    asr: float | None = None
    quality: str | None = None
    missing_days: list[str] = field(default_factory=list)
    generated_at: str | None = None
    dag_run: DagRunRef | None = None
    readable: bool = True
    #: ``provisional`` (a day of the period can still change) or ``final``.
    status: str | None = None
    final_from: str | None = None
    #: The version shown (the newest: older ones are listed in its ``supersedes``).
    version: int | None = None
    superseded: int = 0


@dataclass
class RetentionStatus:
    """The latest retention report of an account."""

    account_id: str
    as_of: str
    formats: list[str]
    window_start: str | None = None
    window_end: str | None = None
    expected_days: int | None = None
    verified_days: int | None = None
    coverage: float | None = None
    gaps: list[Any] = field(default_factory=list)
    expiring: list[Any] = field(default_factory=list)
    generated_at: str | None = None
    dag_run: DagRunRef | None = None
    readable: bool = True


@dataclass
class AccountView:
    account_id: str
    retention: RetentionStatus | None
    months: list[SummaryRow]
    days: list[SummaryRow]
    #: The month whose daily reports are listed in ``days``.
    days_month: str | None
    day_months: list[str]


class ReportCatalog:
    """Read-only access to the lake's reports.

    :param storage: the lake bucket (its ``aws`` connection).
    :param layout: the lake layout; only keys under ``layout.reports_root`` are ever read.
    """

    def __init__(self, storage: LakeStorage, layout: LakeLayout) -> None:
        if storage.bucket != layout.bucket:
            raise ValueError("storage and layout must name the same bucket")
        self.storage = storage
        self.layout = layout

    # -- keys -------------------------------------------------------------------------------------------
    def report_key(self, kind: str, account_id: str, period: str, fmt: str) -> str:
        """The one object key a request may read; raises :class:`InvalidReportRequest` otherwise."""
        check_kind(kind)
        check_account(account_id)
        check_period(kind, period)
        check_format(fmt)
        try:
            if kind == "summary":
                key = self.layout.summary_report_key(account_id, period, fmt)
            else:
                key = self.layout.retention_report_key(account_id, period, fmt)
        except ValueError as err:
            raise InvalidReportRequest(str(err)) from None
        # Belt and braces: whatever the layout returns must stay inside the reports prefix.
        if not key.startswith(self.layout.reports_root) or "/../" in f"/{key}/" or "//" in key:
            raise InvalidReportRequest("report key outside the reports prefix")
        return key

    def open_report(self, kind: str, account_id: str, period: str, fmt: str) -> tuple[int, Iterator[bytes]]:
        """``(size, chunks)`` of a report file, streamed; :class:`ReportNotFound` when absent."""
        key = self.report_key(kind, account_id, period, fmt)
        head = self.storage.head(key)
        if head is None:
            raise ReportNotFound(f"no {fmt.upper()} {kind} report for account {account_id}, period {period}")
        return int(head.get("ContentLength", 0)), self.storage.iter_chunks(key, chunk_size=256 * 1024)

    # -- listing ----------------------------------------------------------------------------------------
    def accounts(self) -> list[str]:
        found: set[str] = set()
        for root in (self.layout.summary_reports_root, self.layout.retention_reports_root):
            for prefix in self.storage.list_prefixes(root):
                value = _hive_value(prefix, "account_id")
                if value and _ACCOUNT_RE.match(value):
                    found.add(value)
        return sorted(found)

    def _formats(self, prefix: str, stem: str) -> list[str]:
        names = {obj["Key"].rsplit("/", 1)[-1] for obj in self.storage.list_objects(prefix)}
        return [fmt for fmt in REPORT_FORMATS if f"{stem}.{fmt}" in names]

    def summary_periods(self, account_id: str) -> list[str]:
        root = self.layout.summary_reports_root + f"account_id={check_account(account_id)}/"
        out = []
        for prefix in self.storage.list_prefixes(root):
            value = _hive_value(prefix, "period")
            if value and (_MONTH_RE.match(value) or _DAY_RE.match(value)):
                out.append(value)
        return sorted(out, reverse=True)

    def retention_dates(self, account_id: str) -> list[str]:
        root = self.layout.retention_reports_root + f"account_id={check_account(account_id)}/"
        out = []
        for prefix in self.storage.list_prefixes(root):
            value = _hive_value(prefix, "as_of")
            if value and _DAY_RE.match(value):
                out.append(value)
        return sorted(out, reverse=True)

    # -- reading ----------------------------------------------------------------------------------------
    def _read_json(self, key: str) -> dict[str, Any] | None:
        try:
            data = self.storage.get_json(key)
        except ValueError:  # malformed JSON: show the row, without figures
            log.warning("report %s is not valid JSON", key)
            return None
        return data if isinstance(data, dict) else None

    def summary_row(self, account_id: str, period: str) -> SummaryRow:
        prefix = self.layout.summary_report_prefix(account_id, period)
        formats = self._formats(prefix, "summary")
        row = SummaryRow(
            account_id=account_id,
            period=period,
            period_kind="month" if len(period) == 7 else "day",
            formats=formats,
        )
        data = self._read_json(prefix + "summary.json") if "json" in formats else None
        if data is None:
            row.readable = False
            return row
        totals = data.get("totals") or {}
        quality = data.get("quality") or {}
        row.period_kind = str(data.get("period_kind") or row.period_kind)
        row.calls = int_or_none(totals.get("calls"))
        row.answered = int_or_none(totals.get("answered"))
        row.asr = _as_float(totals.get("asr"))
        row.quality = quality.get("worst_status") if isinstance(quality, dict) else None
        row.missing_days = [str(d) for d in (data.get("missing_days") or [])]
        row.generated_at = data.get("generated_at")
        row.dag_run = DagRunRef.from_json(data.get("dag_run"))
        row.status = data.get("status") if data.get("status") in ("provisional", "final") else None
        row.final_from = (data.get("status_rule") or {}).get("final_from")
        row.version = int_or_none(data.get("version"))
        row.superseded = len(data.get("supersedes") or [])
        return row

    def retention_status(self, account_id: str, as_of: str) -> RetentionStatus:
        prefix = self.layout.retention_report_prefix(account_id, as_of)
        formats = self._formats(prefix, "retention")
        status = RetentionStatus(account_id=account_id, as_of=as_of, formats=formats)
        data = self._read_json(prefix + "retention.json") if "json" in formats else None
        if data is None:
            status.readable = False
            return status
        window = data.get("window") or {}
        totals = data.get("totals") or {}
        status.window_start = window.get("start")
        status.window_end = window.get("end")
        status.expected_days = int_or_none(totals.get("expected_days"))
        status.verified_days = int_or_none(totals.get("verified_days"))
        status.coverage = _as_float(totals.get("coverage"))
        status.gaps = list(totals.get("gaps") or [])
        status.expiring = list(totals.get("expiring_within_30_days") or [])
        status.generated_at = data.get("generated_at")
        status.dag_run = DagRunRef.from_json(data.get("dag_run"))
        return status

    def account_view(self, account_id: str, month: str | None = None) -> AccountView:
        """Everything the page shows for one account.

        Every monthly report is listed; daily reports only for one month (``month``, else the latest),
        so the page stays fast with two years of daily reports.
        """
        check_account(account_id)
        periods = self.summary_periods(account_id)
        months = [p for p in periods if len(p) == 7]
        days = [p for p in periods if len(p) == 10]
        day_months = sorted({d[:7] for d in days}, reverse=True)
        if month is not None and not _MONTH_RE.match(month):
            raise InvalidReportRequest("month must be YYYY-MM")
        days_month = month or (day_months[0] if day_months else None)
        shown_days = [d for d in days if d.startswith(days_month)] if days_month else []
        dates = self.retention_dates(account_id)
        with ThreadPoolExecutor(_READ_CONCURRENCY) as pool:
            month_rows = list(pool.map(lambda p: self.summary_row(account_id, p), months))
            day_rows = list(pool.map(lambda p: self.summary_row(account_id, p), shown_days))
        retention = self.retention_status(account_id, dates[0]) if dates else None
        return AccountView(
            account_id=account_id,
            retention=retention,
            months=month_rows,
            days=day_rows,
            days_month=days_month,
            day_months=day_months,
        )
