"""Kept for existing imports: the masking rule lives in :mod:`airflow_provider_vobiz.privacy`."""

from airflow_provider_vobiz.privacy import (
    MASK_CHAR,
    MIN_KEY_BYTES,
    NumberPolicy,
    hmac_token,
    mask_number,
    mask_text,
    mask_value,
)

__all__ = [
    "MASK_CHAR",
    "MIN_KEY_BYTES",
    "NumberPolicy",
    "hmac_token",
    "mask_number",
    "mask_text",
    "mask_value",
]
