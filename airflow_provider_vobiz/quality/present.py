"""The validation result for people: a :class:`~airflow_provider_vobiz.reports.render.Report` rendered by the
one renderer of every document (``validation.html`` beside the partition; :func:`to_report` renders to PDF
too).

Phone numbers are personal data (DPDP Act 2023): the page shows only their last four digits
(:mod:`airflow_provider_vobiz.privacy`); the examples were stored masked, and are masked again when quoted.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_vobiz import __version__
from airflow_provider_vobiz.privacy import mask_text, mask_value
from airflow_provider_vobiz.quality.result import CheckResult, QualityResult, example_text
from airflow_provider_vobiz.reports.render import Report, Section, Table, render_html

_CHECK_COLUMNS = ["Check", "What it checks", "Columns", "Severity", "Result", "Unexpected", "Examples"]


def _outcome(check: CheckResult) -> str:
    return "pass" if check.success else ("error" if check.error else "FAIL")


def _detail(check: CheckResult) -> str:
    """How many rows it found unexpected, why it could not be evaluated, or what it observed."""
    if check.unexpected_count is not None:
        detail = f"{check.unexpected_count} of {check.element_count}"
        if check.unexpected_percent:
            detail += f" ({check.unexpected_percent:.2f}%)"
        return detail
    if check.error:
        return mask_text(check.error)  # stored masked; quoted text is masked again wherever people read it
    return f"observed {example_text(check.observed)}; expected {check.expected}"


def _check_row(check: CheckResult) -> list[Any]:
    return [
        check.name,
        check.description or check.type,
        check.where(),
        check.severity,
        _outcome(check),
        _detail(check),
        check.examples_text() if not check.success else "",
    ]


def to_report(result: QualityResult, reconciliation: dict[str, Any] | None = None) -> Report:
    """The validation as a document: its verdict and inputs, one row per expectation, the API reconciliation.

    :param reconciliation: the manifest's API reconciliation figures, shown as they were recorded.
    """
    critical, warning = len(result.failed("critical")), len(result.failed("warning"))
    expectations = Section(
        "Expectations",
        paragraphs=[
            "Critical expectations fail the quality task; warnings are recorded. "
            "Phone numbers show only their last four digits."
        ],
        tables=[Table(_CHECK_COLUMNS, [_check_row(c) for c in result.checks])],
    )
    sections = [expectations]
    if reconciliation:
        masked = mask_value(reconciliation)
        rows = [[str(k), v if isinstance(v, int | float) else str(v)] for k, v in masked.items()]
        sections.append(
            Section("API reconciliation (from the manifest)", tables=[Table(["Figure", "Value"], rows)])
        )
    return Report(
        title=f"CDR data quality: {result.status.upper()}",
        account_id=result.account_id,
        period_label=result.call_date,
        generated_at=result.validated_at,
        provider_version=__version__,
        notices=[c.describe() for c in result.failed() if c.severity == "critical"],
        meta=[
            ("Status", result.status.upper()),
            ("Rows", str(result.rows)),
            ("Partition content sha256", str(result.content_sha256)),
            ("Suite", f"{result.suite_name} ({result.suite_source}, sha256 {result.suite_sha256[:12]})"),
            (
                "Expectations",
                f"{len(result.checks)} evaluated, {critical} critical and {warning} warning failed",
            ),
        ],
        sections=sections,
    )


def validation_page(result: QualityResult, reconciliation: dict[str, Any] | None = None) -> bytes:
    """``validation.html``: the validation's page, in the look of every other document."""
    return render_html(to_report(result, reconciliation))


__all__ = ["to_report", "validation_page"]
