"""Masking of phone numbers (personal data under the DPDP Act 2023) in anything a person reads.

A masked number keeps only its last four digits. The CDR layer masks what it quarantines (``rejects.jsonl``)
and the reasons it gives; reports, the quality result and the UI page use the same helpers, so a number is
masked the same way wherever it appears.
"""

from __future__ import annotations

import re
from typing import Any

MASK_CHAR = "•"
_DIGITS = re.compile(r"\d")
#: Anything that looks like a phone number inside free text: 8-15 digits, optionally spaced or dashed,
#: standing alone; not an ISO date (2026-05-11) or part of an id.
_NUMBER_RE = re.compile(r"(?<![\w.:-])(?!\d{4}-\d{2}-\d{2})\+?\d(?:[ -]?\d){7,14}(?![\w:-])")
#: CDR fields that hold a phone number (documented as E.164, or in practice: the caller id name often is one).
NUMBER_FIELDS: tuple[str, ...] = ("caller_id_number", "destination_number", "caller_id_name", "terminated_to")


def mask_number(number: str | None) -> str:
    """``+919876543210`` -> ``••••3210``: the last four digits only. Empty/None -> ``""``.

    Short identifiers (four digits or fewer) are masked whole: ``"1909"`` -> ``"••••"``.
    """
    if number is None:
        return ""
    digits = "".join(_DIGITS.findall(str(number)))
    if not digits:
        return MASK_CHAR * 4 if str(number).strip() else ""
    if len(digits) <= 4:
        return MASK_CHAR * 4
    return MASK_CHAR * 4 + digits[-4:]


def mask_text(text: str) -> str:
    """Mask every number-like run of digits in free text."""
    return _NUMBER_RE.sub(lambda m: mask_number(m.group(0)), text)


def mask_value(value: Any, key: str = "") -> Any:
    """Mask phone numbers anywhere in a JSON-like value (by field name, and in any text)."""
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, key) for v in value]
    if isinstance(value, str):
        if key in NUMBER_FIELDS:
            return mask_number(value)
        return mask_text(value)
    return value
