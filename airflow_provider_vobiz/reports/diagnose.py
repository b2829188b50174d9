"""Kept for existing imports (the summary report's ``diag``): the rules live in
:mod:`airflow_provider_vobiz.diagnosis.rules`."""

from airflow_provider_vobiz.diagnosis.rules import (
    JITTER_HIGH_MS,
    MOS_POOR,
    PACKET_LOSS_HIGH_PCT,
    RULES,
    Diagnosis,
    diagnose,
    diagnosis_json,
    quality_flag,
)

__all__ = [
    "JITTER_HIGH_MS",
    "MOS_POOR",
    "PACKET_LOSS_HIGH_PCT",
    "RULES",
    "Diagnosis",
    "diagnose",
    "diagnosis_json",
    "quality_flag",
]
