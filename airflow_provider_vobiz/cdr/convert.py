"""Typing one record's documented fields, value by value in Python: the authority on what a value means.

The normaliser's vectorised casts are the fast path; when a batch will not cast, its records come here, and
the message of a :class:`RecordTypeError` is the record's reject reason (values in it are masked).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.schema import FIELDS, MONEY, MONEY_SCALE, TIMESTAMP
from airflow_provider_vobiz.privacy import mask_text

_MONEY_QUANTUM = decimal.Decimal(1).scaleb(-MONEY_SCALE)
_MONEY_MAX = decimal.Decimal(10) ** (18 - MONEY_SCALE)


class RecordTypeError(ValueError):
    """A record that cannot be typed; the message is the reject reason."""


# -- per-record typing: the authority -------------------------------------------------------------------
def _to_int(name: str, v: Any) -> int:
    if isinstance(v, bool):
        raise RecordTypeError(f"{name}: expected an integer, got a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    raise RecordTypeError(f"{name}: expected an integer, got {_show(v)}")


def _to_float(name: str, v: Any) -> float:
    if isinstance(v, bool):
        raise RecordTypeError(f"{name}: expected a number, got a boolean")
    if isinstance(v, int | float):
        out = float(v)
    elif isinstance(v, str):
        try:
            out = float(v.strip())
        except ValueError:
            raise RecordTypeError(f"{name}: expected a number, got {_show(v)}") from None
    else:
        raise RecordTypeError(f"{name}: expected a number, got {_show(v)}")
    if not math.isfinite(out):
        raise RecordTypeError(f"{name}: expected a finite number, got {_show(v)}")
    return out


def _to_money(name: str, v: Any) -> decimal.Decimal:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise RecordTypeError(f"{name}: expected an amount, got {_show(v)}")
    try:
        # str() of a float is its shortest round-trip text: 0.3 stays 0.3, not 0.299999...
        amount = decimal.Decimal(v.strip() if isinstance(v, str) else str(v))
    except decimal.InvalidOperation:
        raise RecordTypeError(f"{name}: expected an amount, got {_show(v)}") from None
    if not amount.is_finite() or abs(amount) >= _MONEY_MAX:
        raise RecordTypeError(f"{name}: amount {_show(v)} does not fit decimal(18, {MONEY_SCALE})")
    return amount.quantize(_MONEY_QUANTUM, rounding=decimal.ROUND_HALF_EVEN)


def _to_timestamp(name: str, v: Any) -> dt.datetime:
    if not isinstance(v, str):
        raise RecordTypeError(f"{name}: expected an ISO 8601 timestamp, got {_show(v)}")
    text = v.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        ts = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RecordTypeError(f"{name}: expected an ISO 8601 timestamp, got {_show(v)}") from None
    # The API writes UTC with a Z; a timestamp without an offset is read as UTC too.
    return ts.replace(tzinfo=dt.timezone.utc) if ts.tzinfo is None else ts.astimezone(dt.timezone.utc)


def to_string(name: str, v: Any) -> str:
    """Text as stored: a string that is valid UTF-8, or a number written as text."""
    if isinstance(v, str):
        if not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # the hook decodes bytes that are not UTF-8 as lone surrogates
                raise RecordTypeError(f"{name}: invalid UTF-8") from None
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    raise RecordTypeError(f"{name}: expected text, got {_show(v)}")


def _show(v: Any) -> str:
    """A value for a reason: short, and masked (the value may be a phone number in the wrong field)."""
    text = json.dumps(v, default=str, ensure_ascii=False)
    return mask_text(text if len(text) <= 60 else text[:57] + "...")


_CONVERTERS: dict[str, Callable[[str, Any], Any]] = {}
for _f in FIELDS:
    if _f.type == TIMESTAMP:
        _CONVERTERS[_f.name] = _to_timestamp
    elif _f.type == MONEY:
        _CONVERTERS[_f.name] = _to_money
    elif _f.type == pa.int64():
        _CONVERTERS[_f.name] = _to_int
    elif _f.type == pa.float64():
        _CONVERTERS[_f.name] = _to_float
    else:
        _CONVERTERS[_f.name] = to_string


def type_record(record: dict[str, Any]) -> dict[str, Any]:
    """Type one record's documented fields (``None`` stays null); raise :class:`RecordTypeError`."""
    out: dict[str, Any] = {}
    for name, convert in _CONVERTERS.items():
        v = record.get(name)
        out[name] = None if v is None else convert(name, v)
    return out
