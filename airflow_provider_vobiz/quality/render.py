"""Kept for existing imports: the validation page is built in :mod:`airflow_provider_vobiz.quality.present`
(rendered by :mod:`airflow_provider_vobiz.reports.render`), a check's words in
:mod:`airflow_provider_vobiz.quality.result`, and masking in :mod:`airflow_provider_vobiz.privacy`.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_vobiz.privacy import mask_phone_values
from airflow_provider_vobiz.quality.present import to_report, validation_page
from airflow_provider_vobiz.quality.result import CheckResult, QualityResult


def describe_check(check: CheckResult) -> str:
    """One line: severity, name, what it checks, how it failed (:meth:`CheckResult.describe`)."""
    return check.describe()


def failure_message(result: QualityResult) -> str:
    """The task's error text (:meth:`QualityResult.message`)."""
    return result.message()


def render_html(result: QualityResult, reconciliation: dict[str, Any] | None) -> str:
    """The validation page as text (:func:`.present.validation_page`)."""
    return validation_page(result, reconciliation).decode("utf-8")


def mask_phone(value: Any) -> Any:
    """``+919876543210`` -> ``••••3210`` (:func:`privacy.mask_phone_values`); non-strings unchanged."""
    return mask_phone_values(value)


mask_values = mask_phone_values

__all__ = ["describe_check", "failure_message", "mask_phone", "mask_values", "render_html", "to_report"]
