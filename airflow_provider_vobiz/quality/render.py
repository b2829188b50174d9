"""Kept for existing imports: the validation page is built in :mod:`airflow_provider_vobiz.quality.present`
(rendered by :mod:`airflow_provider_vobiz.reports.render`), a check's words in
:mod:`airflow_provider_vobiz.quality.result`, and masking in :mod:`airflow_provider_vobiz.privacy`.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_vobiz.privacy import mask_number
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


# Until privacy.py has a "mask every string whole" rule, the stored GX result of a phone column is masked
# here (quality.validate); no page uses these.
def mask_phone(value: Any) -> Any:
    """``+919876543210`` -> ``••••3210`` (:func:`privacy.mask_number`). Non-strings are returned unchanged."""
    return mask_number(value) if isinstance(value, str) else value


def mask_values(obj: Any) -> Any:
    """Mask every string inside ``obj`` (lists, dicts, pairs of a column-pair result)."""
    if isinstance(obj, str):
        return mask_phone(obj)
    if isinstance(obj, list | tuple):
        return [mask_values(v) for v in obj]
    if isinstance(obj, dict):
        return {k: mask_values(v) for k, v in obj.items()}
    return obj


__all__ = ["describe_check", "failure_message", "mask_phone", "mask_values", "render_html", "to_report"]
