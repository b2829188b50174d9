"""Phone numbers in everything the provider writes or shows (DPDP Act 2023): the one masking rule.

Under the DPDP Act a phone number is personal data wherever it appears, not only in the schema's phone
fields. Every output uses this module: the reports, the quality pages and validation results, the UI plugin
and the hook's logs.

- **People** (HTML, PDF, pages, logs) see the last four digits after four ``•``: :func:`mask_number` for
  the schema's phone fields (:data:`PHONE_FIELDS`), :func:`mask_text` for every number-like run inside any
  other text.
- **Machines** (CSV, JSON) get a keyed HMAC-SHA256 token (:func:`hmac_token`) in the same places: stable
  for joins across reports, useless without the key. A bare hash would not do: the 10^10 Indian mobile
  numbers are brute-forced in minutes. Raw numbers appear only with ``include_raw_numbers=True``.

A *number-like run* is an optional ``+`` and at least :data:`MIN_RUN_DIGITS` digits, single spaces or
dashes allowed between them (``+91 98765 43210``, ``080-6548-0214``, ``TRK919876543210``). Left alone:
UUIDs, ISO dates and times, dotted IP addresses, and shorter numbers (codes, counts, short codes such as
1909), which identify no subscriber.

The key is the password of the Airflow connection ``settings.HMAC_CONN_ID``; operators resolve it and hand
the bytes to :class:`NumberPolicy`. Nothing here logs or prints the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vobiz.cdr.schema import PHONE_FIELDS

#: The one glyph that stands for a hidden digit, everywhere.
MASK_CHAR = "•"
MASK = MASK_CHAR * 4
#: Shortest key accepted: a short key makes the tokens guessable.
MIN_KEY_BYTES = 16
#: A run of fewer digits is a code or a count, not a subscriber number.
MIN_RUN_DIGITS = 8

_DIGITS = re.compile(r"\d")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Alternatives kept verbatim come first, so a UUID's last group, a date, an IPv4 address, a hash or a decimal
# figure is never a "number". A number is 8+ digits, with at most two separators (any space, including a
# no-break space, or - _ / ( ) .) between two digits: "+91 (98765) 43210", "98765_43210", "919.876.543.210".
_TEXT_RE = re.compile(
    r"(?P<keep>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|(?<![\d.])" + _OCTET + r"(?:\." + _OCTET + r"){3}(?![\d.])"
    # a hash (md5, sha1 or sha256 in hex, at least one a-f): digits inside it are no number
    r"|\b(?=[0-9A-Fa-f]*[A-Fa-f])(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})\b"
    # a decimal figure: an amount (1234567.89) or a small measure (4.123456), not "98765.43210"
    r"|(?<![\d.])(?:\d+\.\d{1,2}|\d{1,4}\.\d+)(?![\d.]))"
    r"|(?P<number>\+?\d(?:[\s\-_/().]{0,2}\d){" + str(MIN_RUN_DIGITS - 1) + ",})"
)


def mask_number(number: Any) -> str:
    """``+919876543210`` -> ``••••3210``: the last four digits only. Empty/None -> ``""``.

    Short identifiers (four digits or fewer) and values without digits are masked whole.
    """
    if number is None:
        return ""
    text = str(number)
    digits = "".join(_DIGITS.findall(text))
    if len(digits) <= 4:
        return MASK if text.strip() else ""
    return MASK + digits[-4:]


def _sub_numbers(text: str, replace: Callable[[str], str]) -> str:
    def one(m: re.Match[str]) -> str:
        return m.group(0) if m.group("keep") else replace(m.group("number"))

    return _TEXT_RE.sub(one, text)


def mask_text(text: str) -> str:
    """Every number-like run in free text -> ``••••`` + its last four digits; the rest is unchanged."""
    return _sub_numbers(text, mask_number)


def _key_bytes(key: bytes | str) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise ValueError(
            f"the HMAC key for phone-number tokens must be at least {MIN_KEY_BYTES} bytes "
            f"(got {len(raw)}); set a long random password on the report HMAC connection"
        )
    return raw


def hmac_token(number: str | None, key: bytes | str) -> str:
    """Keyed HMAC-SHA256 of the number (as stored in the lake), hex. None -> ``""``."""
    if number is None:
        return ""
    return hmac.new(_key_bytes(key), str(number).encode("utf-8"), hashlib.sha256).hexdigest()


def _run_key(run: str) -> str:
    """A run found in text is tokenised without its separators: ``+91 (98765) 43210`` -> ``+919876543210``."""
    return ("+" if run.startswith("+") else "") + "".join(_DIGITS.findall(run))


def mask_value(value: Any, key: str = "") -> Any:
    """For people: mask phone fields (by ``key``) and number-like runs in every string of a JSON-like value."""
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, key) for v in value]
    if isinstance(value, str):
        return mask_number(value) if key in PHONE_FIELDS else mask_text(value)
    return value


def mask_phone_values(value: Any) -> Any:
    """For people, where every string is a phone number (a phone column's values in a check result): each
    string masked whole to ``••••`` + its last four digits, inside lists, tuples and dicts; other values
    unchanged."""
    if isinstance(value, str):
        return mask_number(value)
    if isinstance(value, list | tuple):
        return [mask_phone_values(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_phone_values(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class NumberPolicy:
    """How an output shows phone numbers, per audience.

    :param key: the HMAC key (required unless ``include_raw_numbers``).
    :param include_raw_numbers: machine-readable outputs carry the raw number (explicit opt-in).
    """

    key: bytes | None = field(default=None, repr=False)
    include_raw_numbers: bool = False

    def __post_init__(self) -> None:
        if self.key is not None:
            _key_bytes(self.key)
        elif not self.include_raw_numbers:
            raise ValueError(
                "phone numbers in CSV/JSON need an HMAC key (the report HMAC connection's password) "
                "or an explicit include_raw_numbers=True"
            )

    def for_machines(self, number: str | None) -> str:
        """A phone field's value for CSV/JSON."""
        if number is None:
            return ""
        if self.include_raw_numbers:
            return str(number)
        assert self.key is not None
        return hmac_token(number, self.key)

    def text_for_machines(self, text: Any) -> Any:
        """Any other text field for CSV/JSON: each number-like run becomes its token. Non-strings unchanged."""
        if not isinstance(text, str) or self.include_raw_numbers:
            return text
        return _sub_numbers(text, lambda run: self.for_machines(_run_key(run)))

    @staticmethod
    def text_for_people(text: Any) -> Any:
        """Any other text field for HTML/PDF: each number-like run masked. Non-strings unchanged."""
        return mask_text(text) if isinstance(text, str) else text

    def describe(self) -> str:
        if self.include_raw_numbers:
            return "raw numbers in CSV/JSON (explicitly enabled); last four digits in HTML/PDF"
        return (
            "keyed HMAC-SHA256 tokens in CSV/JSON (phone fields, and every number-like run in other text); "
            "last four digits in HTML/PDF"
        )


__all__ = [
    "MASK",
    "MASK_CHAR",
    "MIN_KEY_BYTES",
    "MIN_RUN_DIGITS",
    "PHONE_FIELDS",
    "NumberPolicy",
    "hmac_token",
    "mask_number",
    "mask_text",
    "mask_value",
]
