"""Synthetic CDR days for the report benchmark and the summary demo (vectorised, seeded, FILE_SCHEMA).

Not the simulator (that serves the API); this writes lake partitions directly so a month of 30M calls can
be produced in about a minute. Distributions are plausible, not calibrated: ~48% answered, the documented
hangup causes, MOS/jitter/packet loss with two decimals, campaigns with 140xx and 10-digit CLIs, trunks,
regions, INR costs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, MONEY, SCHEMA_VERSION, SORT_KEYS
from airflow_provider_vobiz.lake.manifest import content_sha256

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))

_ANSWERED_CAUSES = np.array(["NORMAL_CLEARING"] * 97 + ["MEDIA_TIMEOUT", "NETWORK_OUT_OF_ORDER", "UNKNOWN"])
_UNANSWERED = np.array(
    ["NO_ANSWER"] * 40
    + ["USER_BUSY"] * 20
    + ["ORIGINATOR_CANCEL"] * 14
    + ["CALL_REJECTED"] * 6
    + ["REJECTED"] * 2
    + ["INVALID_NUMBER"] * 3
    + ["UNALLOCATED_NUMBER"] * 4
    + ["SERVICE_UNAVAILABLE"] * 3
    + ["NORMAL_TEMPORARY_FAILURE"] * 3
    + ["SWITCH_CONGESTION"] * 2
    + ["SERVER_ERROR", "PROTOCOL_ERROR", "DESTINATION_OUT_OF_ORDER", "UNKNOWN"]
)
_SOURCES = np.array(["Caller", "Callee", "Carrier", "System"])
_CODECS = np.array(["PCMU", "PCMA", "opus"])
_REGIONS = np.array(["ap-south-1", "ap-south-2"])
_ORIGINS = np.array(["mumbai", "delhi", "bangalore", "chennai"])
_TRUNKS = np.array(["trunk-a", "trunk-b", "trunk-c"])
_CAMPAIGNS = np.array(["camp-diwali", "camp-renewal", "camp-survey"])
#: Business CLIs: 140xx promotional, 1600 transactional, and 10-digit numbers (banned for telemarketing).
_CLIS = np.array(
    ["+911401234567", "+911409876543", "+911600123456", "+918065480214", "+918065480215", "+917940001234"]
)


def _numbers(rng: np.random.Generator, n: int) -> pa.Array:
    digits = rng.integers(6_000_000_000, 9_999_999_999, size=n, dtype=np.int64)
    return pc.binary_join_element_wise("+91", pc.cast(pa.array(digits), pa.string()), "")


def _money(values: np.ndarray) -> pa.Array:
    # Whole paise in INR; Arrow's float -> decimal cast rounds to the scale, so 0.3 is stored as 0.300000.
    return pa.array(np.round(values, 2)).cast(MONEY)


def day_table(call_date: dt.date, n: int, seed: int = 0) -> pa.Table:
    """``n`` synthetic calls whose start_time falls on IST day ``call_date``, sorted like the lake."""
    rng = np.random.default_rng([seed, call_date.toordinal()])
    day0 = dt.datetime.combine(call_date, dt.time(0), IST).astimezone(dt.timezone.utc)
    base_us = int(day0.timestamp() * 1_000_000)
    # Business-hours heavy time of day, some traffic at night.
    secs = np.clip(rng.normal(14 * 3600, 4 * 3600, size=n), 0, 86399).astype(np.int64)
    night = rng.random(n) < 0.05
    secs[night] = rng.integers(0, 86400, size=int(night.sum()))
    start_us = base_us + secs * 1_000_000 + rng.integers(0, 1_000_000, size=n)
    outbound = rng.random(n) < 0.7
    answered = rng.random(n) < 0.48
    ring = np.where(answered, rng.integers(0, 25, size=n), rng.integers(0, 45, size=n))
    billsec = np.where(answered, np.maximum(1, rng.exponential(70, size=n).astype(np.int64)), 0)
    duration = ring + billsec
    cause = np.where(
        answered,
        _ANSWERED_CAUSES[rng.integers(0, len(_ANSWERED_CAUSES), size=n)],
        _UNANSWERED[rng.integers(0, len(_UNANSWERED), size=n)],
    )
    mos = np.where(answered, np.round(np.clip(rng.normal(4.1, 0.4, size=n), 1.0, 5.0), 2), 0.0)
    jitter = np.where(answered, np.round(rng.gamma(2.0, 6.0, size=n), 2), 0.0)
    loss = np.where(answered, np.round(rng.exponential(0.4, size=n), 2), 0.0)
    campaign_mask = outbound & (rng.random(n) < 0.6)
    campaign = np.where(campaign_mask, _CAMPAIGNS[rng.integers(0, len(_CAMPAIGNS), size=n)], None)
    cli_out = _CLIS[rng.integers(0, len(_CLIS), size=n)]
    customers = _numbers(rng, n)
    cli = pa.array(np.where(outbound, cli_out, None))
    caller = pc.if_else(pa.array(outbound), cli, customers)
    dest = pc.if_else(pa.array(outbound), customers, pa.array(_CLIS[rng.integers(0, len(_CLIS), size=n)]))
    cost = np.where(answered, np.ceil(billsec / 60) * 0.3, 0.0)
    streaming = np.where(answered & (rng.random(n) < 0.1), 0.05 * np.ceil(billsec / 60), 0.0)
    answer_us = start_us + ring * 1_000_000
    end_us = start_us + duration * 1_000_000
    progress_us = start_us + rng.integers(0, 3, size=n) * 1_000_000
    idx = pa.array(np.arange(n, dtype=np.int64))
    uuids = pc.binary_join_element_wise(f"{call_date.isoformat()}-", pc.cast(idx, pa.string()), "")
    ts = pa.timestamp("us", tz="UTC")
    cols = {
        "id": pa.array(call_date.toordinal() * 10_000_000 + np.arange(n, dtype=np.int64)),
        "uuid": uuids,
        "call_direction": pa.array(np.where(outbound, "outbound", "inbound")),
        "caller_id_name": pa.array(np.where(outbound, "Vobiz Demo", "")),
        "caller_id_number": caller,
        "destination_number": dest,
        "duration": pa.array(duration),
        "billsec": pa.array(billsec),
        "ring_time": pa.array(ring),
        "answer_time": pa.array(np.where(answered, answer_us, 0)).cast(ts).to_numpy(zero_copy_only=False),
        "start_time": pa.array(start_us).cast(ts),
        "end_time": pa.array(end_us).cast(ts),
        "progress_time": pa.array(progress_us).cast(ts),
        "created_at": pa.array(end_us).cast(ts),
        "updated_at": pa.array(end_us).cast(ts),
        "cost": _money(cost),
        "total_cost": _money(cost + streaming),
        "streaming_cost": _money(streaming),
        "currency": pa.array(np.full(n, "INR")),
        "hangup_cause": pa.array(cause),
        "hangup_cause_code": pa.array(np.where(answered, 4000, 4100)),
        "hangup_cause_name": pa.array(cause),
        "hangup_disposition": pa.array(np.where(rng.random(n) < 0.5, "send_bye", "recv_bye")),
        "hangup_source": pa.array(_SOURCES[rng.integers(0, 4, size=n)]),
        "failure_code": pa.nulls(n, pa.string()),
        "failure_reason": pa.nulls(n, pa.string()),
        "bridge_uuid": pa.nulls(n, pa.string()),
        "sip_call_id": uuids,
        "sip_user_agent": pa.array(np.full(n, "Vobiz")),
        "codec": pa.array(_CODECS[rng.integers(0, 3, size=n)]),
        "mos": pa.array(mos),
        "jitter": pa.array(jitter),
        "packet_loss": pa.array(loss),
        "network_addr": pa.array(np.full(n, "3.110.99.6")),
        "carrier_ip": pa.nulls(n, pa.string()),
        "context": pa.array(np.full(n, "voice-api")),
        "region": pa.array(_REGIONS[rng.integers(0, 2, size=n)]),
        "origination_region": pa.array(_ORIGINS[rng.integers(0, 4, size=n)]),
        "campaign_id": pa.array(campaign),
        "customer_endpoint": pa.nulls(n, pa.string()),
        "trunk_id": pa.array(_TRUNKS[rng.integers(0, 3, size=n)]),
        "terminated_to": pa.nulls(n, pa.string()),
        "extra": pa.nulls(n, pa.string()),
    }
    answer = pa.array(np.where(answered, answer_us, 0)).cast(ts)
    cols["answer_time"] = pc.if_else(pa.array(answered), answer, pa.nulls(n, ts))
    table = pa.table({f.name: cols[f.name].cast(f.type) for f in FILE_SCHEMA}, schema=FILE_SCHEMA)
    return table.sort_by(list(SORT_KEYS))


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=128 * 1024)
    return buf.getvalue()


def manifest_for(account_id: str, call_date: dt.date, part_keys_bytes: list[tuple[str, bytes, int]]) -> dict:
    """A manifest in the lake's format for parts already written (``(key, bytes, rows)``)."""
    parts = [
        {"key": k, "bytes": len(b), "sha256": hashlib.sha256(b).hexdigest(), "rows": rows}
        for k, b, rows in part_keys_bytes
    ]
    start = dt.datetime.combine(call_date, dt.time(0), IST).astimezone(dt.timezone.utc)
    return {
        "schema_version": SCHEMA_VERSION,
        "account_id": account_id,
        "call_date": call_date.isoformat(),
        "timezone": "Asia/Kolkata",
        "window": {"start": start.isoformat(), "end": (start + dt.timedelta(days=1)).isoformat()},
        "row_count": sum(p["rows"] for p in parts),
        "parts": parts,
        "content_sha256": content_sha256(p["sha256"] for p in parts),
        "source": {"endpoint": "synthetic", "method": "cdrgen", "query": {}},
        "reconciliation": {"api_total": sum(p["rows"] for p in parts), "matched": True},
        "rejects": {"count": 0, "key": None},
        "unknown_fields": {},
        "missing_fields": {},
        "extracted_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "provider_version": "synthetic",
        "history": [],
    }


def manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
