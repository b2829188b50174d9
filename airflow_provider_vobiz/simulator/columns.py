"""Arrow string columns built as bytes, vectorised: ISO timestamps, uuids, phone numbers, IPs, categories.

No Python object per record: a day of a million calls is rendered in numpy and Arrow.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def fixed_strings(chars: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """A string array from an ``(n, width)`` uint8 array of fixed-width values (nulls where ``mask``)."""
    n, width = chars.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    validity = None
    if mask is not None and mask.any():
        validity = pa.array(~mask).buffers()[1]
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).tobytes())]
    )


_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


def ts(epoch: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """ISO 8601 UTC strings (``2026-05-11T06:59:31Z``), built as bytes: strftime is 10x slower."""
    epoch = epoch.astype(np.int64)
    days, secs = np.divmod(epoch, 86400)
    uniq, inv = np.unique(days, return_inverse=True)
    dates = np.frombuffer(
        b"".join(
            datetime.fromtimestamp(int(d) * 86400, tz=timezone.utc).strftime("%Y-%m-%dT").encode()
            for d in uniq
        ),
        dtype=np.uint8,
    ).reshape(len(uniq), 11)
    out = np.empty((len(epoch), 20), dtype=np.uint8)
    out[:, :11] = dates[inv.reshape(-1)]
    h, rem = np.divmod(secs, 3600)
    m, sec = np.divmod(rem, 60)
    for pos, v in ((11, h), (14, m), (17, sec)):
        out[:, pos] = _DIGITS[v // 10]
        out[:, pos + 1] = _DIGITS[v % 10]
    out[:, 13] = out[:, 16] = ord(":")
    out[:, 19] = ord("Z")
    return fixed_strings(out, mask)


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def uuids(raw: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Version-4 UUID strings from ``(n, 16)`` random bytes, vectorised."""
    b = raw.copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    n = len(b)
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[b >> 4]
    hexed[:, 1::2] = _HEX[b & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _UUID_POS] = hexed
    return fixed_strings(out, mask)


def phone(digits: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pc.binary_join_element_wise("+", pa.array(digits, pa.int64(), mask=mask).cast(pa.string()), "")


def cat(values: tuple[str, ...] | list[str], idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pc.take(pa.array(list(values), pa.string()), pa.array(idx.astype(np.int32), mask=mask))


def ip(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    parts = [pa.array(x.astype(np.int64), mask=mask).cast(pa.string()) for x in (a, b, c, d)]
    return pc.binary_join_element_wise(*parts, ".")
