"""The diagnose box of the compliance reports page: one call fetched, explained and masked for an officer.

The work lives in :mod:`airflow_provider_vobiz.diagnosis`; this module names what the page uses and maps a
failed diagnosis to its HTTP status.
"""

from __future__ import annotations

from airflow_provider_vobiz.diagnosis.call import CALL_FIELDS, diagnose_call
from airflow_provider_vobiz.diagnosis.fetch import (
    DIAGNOSE_BUDGET_SECONDS,
    PAGE_MAX_RETRIES,
    PAGE_RETRY_BUDGET_SECONDS,
    PAGE_TIMEOUT_SECONDS,
    CallNotFound,
    DiagnosisError,
    check_call_id,
    fetch_cdr,
)
from airflow_provider_vobiz.diagnosis.gate import (
    MAX_IN_FLIGHT,
    MAX_IN_FLIGHT_PER_USER,
    DiagnosisGate,
    DiagnosisTimeout,
    TooManyDiagnoses,
)
from airflow_provider_vobiz.privacy import mask_text, mask_value

__all__ = [
    "CALL_FIELDS",
    "DIAGNOSE_BUDGET_SECONDS",
    "MAX_IN_FLIGHT",
    "MAX_IN_FLIGHT_PER_USER",
    "PAGE_MAX_RETRIES",
    "PAGE_RETRY_BUDGET_SECONDS",
    "PAGE_TIMEOUT_SECONDS",
    "CallNotFound",
    "DiagnosisError",
    "DiagnosisGate",
    "DiagnosisTimeout",
    "TooManyDiagnoses",
    "check_call_id",
    "diagnose_call",
    "diagnosis_status",
    "fetch_cdr",
    "mask_text",
    "mask_value",
]


def diagnosis_status(err: DiagnosisError) -> tuple[int, dict[str, str]]:
    """HTTP status and headers of a failed diagnosis, by its type."""
    if isinstance(err, TooManyDiagnoses):
        return 429, {"Retry-After": str(err.retry_after)}
    if isinstance(err, DiagnosisTimeout):
        return 504, {}
    return (404 if isinstance(err, CallNotFound) else 400), {}
