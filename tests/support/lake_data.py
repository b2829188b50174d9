"""Clean, realistic CDR partitions published to the lake without the API, for tests, demos and benchmarks.

The simulator serves the API (one record at a time, over HTTP); this builds a day's table directly,
vectorised with numpy so that a million calls take a few seconds, and publishes it with the lake's own
writer and publisher (:func:`write_partition`), so its parts and manifest are real ones. Every row satisfies the shipped
quality suite: ~48% answered, billsec 0 exactly when unanswered, duration = ring_time + billsec, E.164 Indian
numbers, the documented hangup causes, MOS in [1, 5], costs in INR per started minute.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, MONEY, SCHEMA_VERSION, TIMESTAMP
from airflow_provider_vobiz.cdr.window import DayWindow, utc_now_iso
from airflow_provider_vobiz.lake.publish import publish_partition
from airflow_provider_vobiz.lake.writer import ROW_GROUP_ROWS, ROWS_PER_PART, PartWriter, file_metadata

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)

#: (cause, code, name, disposition, failure_code, failure_reason) for unanswered calls.
_UNANSWERED = (
    ("NO_ANSWER", 3001, "No Answer", "recv_cancel", "480", "Temporarily Unavailable"),
    ("USER_BUSY", 3002, "User Busy", "recv_refuse", "486", "Busy Here"),
    ("ORIGINATOR_CANCEL", 3003, "Caller Cancelled", "send_cancel", "487", "Request Terminated"),
    ("CALL_REJECTED", 3004, "Call Rejected", "recv_refuse", "603", "Decline"),
    ("UNALLOCATED_NUMBER", 3005, "Unallocated Number", "recv_refuse", "404", "Not Found"),
    ("SERVICE_UNAVAILABLE", 3006, "Service Unavailable", "recv_refuse", "503", "Service Unavailable"),
)
_UNANSWERED_P = (0.45, 0.25, 0.15, 0.07, 0.05, 0.03)


def _fixed_width(chars: np.ndarray) -> pa.StringArray:
    """An Arrow string array from an (n, width) uint8 matrix, with no Python object per row."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))


def _uuids(rng: np.random.Generator, n: int) -> pa.StringArray:
    nibbles = rng.integers(0, 16, size=(n, 32), dtype=np.uint8)
    nibbles[:, 12] = 4  # version 4
    nibbles[:, 16] = 8 + (nibbles[:, 16] & 3)  # RFC 4122 variant
    hexed = _HEX[nibbles]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for dst, src, length in ((0, 0, 8), (9, 8, 4), (14, 12, 4), (19, 16, 4), (24, 20, 12)):
        out[:, dst : dst + length] = hexed[:, src : src + length]
    return _fixed_width(out)


def _indian_mobiles(rng: np.random.Generator, n: int) -> pa.StringArray:
    out = np.empty((n, 13), dtype=np.uint8)
    out[:, 0:3] = np.frombuffer(b"+91", dtype=np.uint8)
    out[:, 3] = _DIGITS[rng.integers(6, 10, size=n)]
    out[:, 4:] = _DIGITS[rng.integers(0, 10, size=(n, 9))]
    return _fixed_width(out)


def _pick(rng: np.random.Generator, pool: list[Any], n: int, p: Any = None, type_: Any = None) -> pa.Array:
    return pa.array(pool, type=type_).take(pa.array(rng.choice(len(pool), size=n, p=p)))


def _ts(micros: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(micros, type=pa.int64(), mask=mask).cast(TIMESTAMP)


def _money(paise: np.ndarray) -> pa.Array:
    # Whole paise are exact in float64 at these magnitudes; the cast rounds to six places.
    return pa.array(paise / 100).cast(MONEY)


def clean_day(rows: int, call_date: dt.date, seed: int = 0, timezone: str = "Asia/Kolkata") -> pa.Table:
    """A realistic, clean day of ``rows`` calls in :data:`FILE_SCHEMA`, sorted by start_time then uuid."""
    rng = np.random.default_rng(seed)
    n = rows
    answered, ring, billsec, t0 = _timing(rng, DayWindow.for_day(call_date, timezone), n)
    duration = ring + billsec
    answer_us = t0 + ring * 1_000_000
    end_us = t0 + duration * 1_000_000

    cause_idx = rng.choice(len(_UNANSWERED), size=n, p=_UNANSWERED_P)

    def by_cause(col: int, answered_value: Any, type_: Any) -> pa.Array:
        unanswered = pa.array([c[col] for c in _UNANSWERED], type=type_).take(pa.array(cause_idx))
        mask = pa.array(answered)
        return pc.if_else(mask, pa.scalar(answered_value, type=type_), unanswered)

    minutes = np.ceil(billsec / 60).astype(np.int64)
    cost_paise = minutes * 50  # 0.50 INR per started minute
    streaming_paise = np.where(answered & (rng.random(n) < 0.1), minutes * 10, 0)
    uuids = _uuids(rng, n)

    cols: dict[str, pa.Array] = {
        "id": pa.array(np.arange(1, n + 1, dtype=np.int64) + seed * 10_000_000),
        "uuid": uuids,
        "call_direction": _pick(rng, ["outbound", "inbound"], n, p=[0.7, 0.3]),
        "caller_id_name": _pick(rng, ["Vobiz Support", "Acme Sales", "Priya", "Rahul", "Unknown"], n),
        "caller_id_number": _indian_mobiles(rng, n),
        "destination_number": _indian_mobiles(rng, n),
        "duration": pa.array(duration),
        "billsec": pa.array(billsec),
        "ring_time": pa.array(ring),
        "answer_time": _ts(answer_us, mask=~answered),
        "start_time": _ts(t0),
        "end_time": _ts(end_us),
        "progress_time": _ts(t0 + 1_000_000),
        "created_at": _ts(end_us + 1_000_000),
        "updated_at": _ts(end_us + 1_000_000),
        "cost": _money(cost_paise),
        "total_cost": _money(cost_paise + streaming_paise),
        "streaming_cost": _money(streaming_paise),
        "currency": pa.array(["INR"] * 1, pa.string()).take(pa.array(np.zeros(n, dtype=np.int64))),
        "hangup_cause": by_cause(0, "NORMAL_CLEARING", pa.string()),
        "hangup_cause_code": by_cause(1, 4000, pa.int64()),
        "hangup_cause_name": by_cause(2, "Normal Hangup", pa.string()),
        "hangup_disposition": by_cause(3, "send_bye", pa.string()),
        "hangup_source": _pick(rng, ["Caller", "Callee", "System"], n, p=[0.5, 0.45, 0.05]),
        "failure_code": pc.if_else(
            pa.array(answered), pa.scalar(None, pa.string()), by_cause(4, "", pa.string())
        ),
        "failure_reason": pc.if_else(
            pa.array(answered), pa.scalar(None, pa.string()), by_cause(5, "", pa.string())
        ),
        "terminated_to": pa.nulls(n, pa.string()),
        "extra": pa.nulls(n, pa.string()),
    }
    cols.update(_media_columns(rng, answered))
    table = pa.table([cols[f.name].cast(f.type) for f in FILE_SCHEMA], schema=FILE_SCHEMA)
    return table.sort_by([("start_time", "ascending"), ("uuid", "ascending")])


def _timing(
    rng: np.random.Generator, window: DayWindow, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(answered, ring, billsec, start_us)`` of ``n`` calls that start and end inside ``window``."""
    day_us = int((window.end - window.start).total_seconds() * 1_000_000)
    start_us = int(window.start.timestamp() * 1_000_000)
    answered = rng.random(n) < 0.48
    ring = rng.integers(1, 31, size=n)
    billsec = np.where(answered, np.minimum(np.ceil(rng.lognormal(np.log(55), 1.0, size=n)), 7200), 0)
    billsec = billsec.astype(np.int64)
    duration = ring + billsec
    # Calls must end inside the window so that an hour-long call near midnight stays a clean row.
    offset = (rng.random(n) * (day_us - (duration.max() + 10) * 1_000_000)).astype(np.int64)
    t0 = start_us + offset
    t0 -= t0 % 1_000_000  # the API sends whole seconds
    return answered, ring, billsec, t0


def _media_columns(rng: np.random.Generator, answered: np.ndarray) -> dict[str, pa.Array]:
    """SIP, media quality and routing columns (drawn after the call's own columns)."""
    n = len(answered)
    return {
        "bridge_uuid": pc.if_else(pa.array(answered), _uuids(rng, n), pa.scalar(None, pa.string())),
        "sip_call_id": _uuids(rng, n),
        "sip_user_agent": _pick(rng, ["Vobiz-B2BUA/4.2", "FreeSWITCH-mod_sofia/1.10", "Asterisk PBX 20"], n),
        "codec": pc.if_else(
            pa.array(answered), _pick(rng, ["PCMU", "PCMA", "opus"], n), pa.scalar(None, pa.string())
        ),
        "mos": pa.array(np.round(np.clip(rng.normal(4.2, 0.4, size=n), 1.0, 5.0), 2)),
        "jitter": pa.array(np.round(rng.exponential(4.0, size=n), 2)),
        "packet_loss": pa.array(np.round(np.clip(rng.exponential(0.3, size=n), 0, 100), 3)),
        "network_addr": _pick(rng, ["10.0.1.15", "10.0.1.16", "10.0.2.40"], n),
        "carrier_ip": _pick(rng, ["49.44.10.2", "49.44.10.3", None], n),
        "context": _pick(rng, ["voice-api"], n),
        "region": _pick(rng, ["ap-south-1"], n),
        "origination_region": _pick(rng, ["IN-MH", "IN-KA", "IN-DL", "IN-TN"], n),
        "campaign_id": _pick(rng, ["cmp_diwali", "cmp_renewal", None, None], n),
        "customer_endpoint": _pick(rng, ["ep_blr_01", None], n),
        "trunk_id": _pick(rng, ["trk_mum_1", "trk_che_2"], n),
    }


def write_partition(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date,
    table: pa.Table,
    *,
    rows_per_part: int = ROWS_PER_PART,
    timezone: str = "Asia/Kolkata",
    reconciliation: dict[str, Any] | None = None,
    rejects: int = 0,
) -> dict[str, Any]:
    """Publish ``table`` as a partition with the lake's own writer and publisher; return the manifest.

    :param reconciliation: overrides of the API figures, which default to a consistent extraction (7
        records more than the day: 3 duplicates and 4 outside the window), to craft a day that does not add
        up.
    :param rejects: records quarantined on the way (a ``rejects.jsonl`` of that many lines, counted as read).
    """
    day = call_date.isoformat()
    rows = table.num_rows
    recon = {
        "api_total": rows + rejects + 7,
        "records_read": rows + rejects + 7,
        "rejected": rejects,
        "duplicates": 3,
        "outside_window": 4,
        "in_window": rows,
        "matched": True,
    }
    recon.update(reconciliation or {})
    with tempfile.TemporaryDirectory(prefix="vobiz-synthetic-") as tmp:
        writer = PartWriter(
            tmp,
            file_metadata(account_id, day, timezone),
            row_group_rows=min(ROW_GROUP_ROWS, rows_per_part),
            rows_per_part=rows_per_part,
        )
        writer.write(table)
        parts = writer.close()
        manifest = _manifest(account_id, call_date, timezone, rows, recon, rejects)
        rejects_path = _rejects_file(tmp, rejects)
        return publish_partition(storage, layout, manifest, parts, rejects_path).manifest


def _manifest(
    account_id: str, call_date: dt.date, timezone: str, rows: int, recon: dict[str, Any], rejects: int
) -> dict[str, Any]:
    """The manifest fields an export pull fills in before publishing (the publisher adds the parts)."""
    day = call_date.isoformat()
    return {
        "schema_version": SCHEMA_VERSION,
        "account_id": account_id,
        "call_date": day,
        "timezone": timezone,
        "window": DayWindow.for_day(call_date, timezone).as_json(),
        "row_count": rows,
        "source": {
            "endpoint": f"/api/v1/Account/{account_id}/cdr/export",
            "method": "export",
            "query": {},
        },
        "reconciliation": recon,
        "rejects": {"count": rejects, "key": None},
        "unknown_fields": {},
        "missing_fields": {},
        "extracted_at": utc_now_iso(timespec="microseconds"),
        "provider_version": "synthetic",
    }


def _rejects_file(directory: str, count: int) -> str | None:
    """A ``rejects.jsonl`` of ``count`` records the API sent malformed (None when there are none)."""
    if not count:
        return None
    path = os.path.join(directory, "rejects.jsonl")
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(count):
            record = {"uuid": f"synthetic-reject-{i}", "duration": "abc"}
            fh.write(json.dumps({"reason": "duration: not an integer ('abc')", "record": record}) + "\n")
    return path
