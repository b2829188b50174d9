"""What a validation found: one :class:`CheckResult` per expectation, the partition's :class:`QualityResult`,
and how a check reads in one line (the task's failure message).

Phone numbers are personal data (DPDP Act 2023): examples are stored masked already, and any text quoted
here passes :func:`airflow_provider_vobiz.privacy.mask_text` again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vobiz.lake.manifest import QUALITY_FAILED
from airflow_provider_vobiz.privacy import mask_text

#: How GX's JSON result spells the missing values it lists as unexpected.
_NULL_TEXT = ("NaT", "NaN", "nan", "None")
_SEVERITY_ORDER = {"critical": 0, "warning": 1}


@dataclass
class CheckResult:
    """The outcome of one expectation (or of the manifest's API reconciliation), ready for people."""

    name: str
    type: str
    severity: str
    success: bool
    family: str | None = None
    description: str | None = None
    columns: tuple[str, ...] = ()
    #: The row condition, readable (``billsec > 0``): counts are of the rows it selects.
    condition: str | None = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    #: Up to ``validate.PARTIAL_UNEXPECTED_COUNT`` unexpected values, phone numbers masked.
    examples: list[Any] = field(default_factory=list)
    observed: Any = None
    expected: Any = None
    error: str | None = None

    def where(self) -> str:
        """The columns it reads and the rows it selects, in words (``caller_id_number where billsec > 0``)."""
        parts = [", ".join(self.columns)] if self.columns else []
        if self.condition:
            parts.append(f"where {self.condition}")
        return " ".join(parts)

    def examples_text(self) -> str:
        """Up to three examples; nulls say nothing (a not-null check's unexpected values are all null)."""
        values = [v for v in self.examples if v is not None and v not in _NULL_TEXT][:3]
        return ", ".join(example_text(v) for v in values)

    def describe(self) -> str:
        """One line: severity, name, what it checks, how it failed, up to three (masked) examples."""
        where = f" on {', '.join(self.columns)}" if self.columns else ""
        if self.condition:
            where += f" where {self.condition}"
        line = f"{self.severity.upper():8} {self.name} ({self.type}{where})"
        if self.error:
            return f"{line}: could not be evaluated: {self.error}"
        if self.unexpected_count is not None:
            pct = f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else ""
            of = f" of {self.element_count}" if self.element_count is not None else ""
            line += f": {self.unexpected_count} unexpected{of}{pct}"
            examples = self.examples_text()
            return line + ("; e.g. " + examples if examples else "")
        return f"{line}: observed {example_text(self.observed)}, expected {self.expected}"


def example_text(value: Any) -> str:
    """A value as quoted to people: strings masked and cut to 80 characters, pairs in parentheses."""
    if isinstance(value, list | tuple):
        return "(" + ", ".join(example_text(v) for v in value) + ")"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(mask_text(value)[:80])
    return str(value)


@dataclass
class QualityResult:
    """What one validation found and where it was stored."""

    account_id: str
    call_date: str
    status: str
    rows: int
    suite_name: str
    suite_source: str
    suite_sha256: str
    checks: list[CheckResult]
    content_sha256: str | None
    validated_at: str
    seconds: float = 0.0
    validation_uri: str | None = None
    html_uri: str | None = None
    validation_key: str | None = None
    html_key: str | None = None
    pdf_key: str | None = None

    @property
    def success(self) -> bool:
        """True unless a critical expectation failed."""
        return self.status != QUALITY_FAILED

    def failed(self, severity: str | None = None) -> list[CheckResult]:
        return [c for c in self.checks if not c.success and (severity is None or c.severity == severity)]

    def message(self) -> str:
        """The task's error text: every failed expectation, its unexpected count and a few masked examples."""
        failed = sorted(self.failed(), key=lambda c: _SEVERITY_ORDER.get(c.severity, 2))
        crit = sum(1 for c in failed if c.severity == "critical")
        head = (
            f"Data quality {self.status.upper()} for account {self.account_id}, call_date {self.call_date} "
            f"({self.rows} rows, suite {self.suite_name}): {crit} critical and {len(failed) - crit} "
            f"non-critical of {len(self.checks)} expectations failed."
        )
        lines = [head] + ["  " + c.describe() for c in failed]
        if self.validation_uri:
            lines.append(f"Full result: {self.validation_uri} (readable: {self.html_uri})")
        return "\n".join(lines)

    def manifest_quality(self) -> dict[str, Any]:
        """The verdict recorded in ``verdict.json`` beside the partition (small; the details are in S3)."""
        return {
            "status": self.status,
            "validated_at": self.validated_at,
            "rows": self.rows,
            "content_sha256": self.content_sha256,
            "suite": self.suite_name,
            "suite_sha256": self.suite_sha256,
            "evaluated": len(self.checks),
            "failed_critical": [c.name for c in self.failed("critical")],
            "failed_warning": [c.name for c in self.failed("warning")],
            "unexpected": {
                c.name: c.unexpected_count for c in self.failed() if c.unexpected_count is not None
            },
            "validation_key": self.validation_key,
            "validation_html_key": self.html_key,
        }

    def summary(self) -> dict[str, Any]:
        """A small, JSON-safe dict for XCom and logs."""
        return {
            "account_id": self.account_id,
            "call_date": self.call_date,
            **self.manifest_quality(),
            "validation_uri": self.validation_uri,
            "html_uri": self.html_uri,
            "seconds": round(self.seconds, 3),
        }


class QualityError(Exception):
    """The partition could not be checked at all (as opposed to: it was checked and failed)."""


__all__ = ["CheckResult", "QualityError", "QualityResult", "example_text"]
