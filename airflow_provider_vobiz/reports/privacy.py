"""Phone numbers in reports (DPDP Act 2023, DESIGN §8).

- People read masked numbers: only the last four digits (:func:`mask_number`).
- Machines get a keyed HMAC-SHA256 token (:func:`hmac_token`): stable for joins across reports, useless
  without the key. A bare hash would not do: the 10^10 Indian mobile numbers are brute-forced in minutes.
- Raw numbers appear only when a caller passes ``include_raw_numbers=True`` explicitly.

The key is the password of the Airflow connection ``config.HMAC_CONN_ID``; the operator resolves it and
hands the bytes to :class:`NumberPolicy`. Nothing here logs or prints the key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from airflow_provider_vobiz.cdr.masking import MASK_CHAR, mask_number

__all__ = ["MASK_CHAR", "MIN_KEY_BYTES", "NumberPolicy", "hmac_token", "mask_number"]

#: Shortest key accepted: a short key makes the tokens guessable.
MIN_KEY_BYTES = 16


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


@dataclass(frozen=True)
class NumberPolicy:
    """How a report shows phone numbers, per audience.

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
        if number is None:
            return ""
        if self.include_raw_numbers:
            return str(number)
        assert self.key is not None
        return hmac_token(number, self.key)

    @staticmethod
    def for_people(number: str | None) -> str:
        return mask_number(number)

    def describe(self) -> str:
        if self.include_raw_numbers:
            return "raw numbers in CSV/JSON (explicitly enabled); last four digits in HTML/PDF"
        return "keyed HMAC-SHA256 tokens in CSV/JSON; last four digits in HTML/PDF"


__all__ = ["MASK_CHAR", "MIN_KEY_BYTES", "NumberPolicy", "hmac_token", "mask_number"]
