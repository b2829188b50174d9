"""Data quality: the Great Expectations suite run on every partition, its result kept beside it.

``validate_partition(storage, layout, account_id, call_date, suite_path=None) -> QualityResult`` is the whole
step; the Airflow operator (``operators.quality.VobizCdrQualityOperator``) only wires it to connections.
"""

from __future__ import annotations

from airflow_provider_vobiz.quality.suite import Suite, SuiteError, default_suite_path, load_suite
from airflow_provider_vobiz.quality.validate import (
    CheckResult,
    QualityError,
    QualityResult,
    validate_partition,
)

__all__ = [
    "CheckResult",
    "QualityError",
    "QualityResult",
    "Suite",
    "SuiteError",
    "default_suite_path",
    "load_suite",
    "validate_partition",
]
