"""Synthetic CDR days shaped for the TRAI summary: the report benchmark and the summary demo (vectorised,
seeded, FILE_SCHEMA).

Not the simulator (that serves the API); :func:`publish_day` publishes a day with the lake's own writer and
publisher (:func:`tests.support.lake_data.write_partition`), so a month of 30M calls takes minutes, not
hours. Distributions are plausible, not calibrated: ~48% answered, the documented hangup causes,
MOS/jitter/packet loss with two decimals, campaigns with 140xx and 10-digit CLIs, trunks, regions, INR costs.
:func:`tests.support.lake_data.clean_day` is the other synthetic day: one that passes every quality check.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, MONEY, SORT_KEYS
from tests.support.lake_data import write_partition

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

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
    c = _calls(rng, call_date, n)
    answered, outbound = c["answered"], c["outbound"]
    idx = pa.array(np.arange(n, dtype=np.int64))
    uuids = pc.binary_join_element_wise(f"{call_date.isoformat()}-", pc.cast(idx, pa.string()), "")
    ts = pa.timestamp("us", tz="UTC")
    cols = {
        "id": pa.array(call_date.toordinal() * 10_000_000 + np.arange(n, dtype=np.int64)),
        "uuid": uuids,
        "call_direction": pa.array(np.where(outbound, "outbound", "inbound")),
        "caller_id_name": pa.array(np.where(outbound, "Vobiz Demo", "")),
        "caller_id_number": c["caller"],
        "destination_number": c["dest"],
        "duration": pa.array(c["duration"]),
        "billsec": pa.array(c["billsec"]),
        "ring_time": pa.array(c["ring"]),
        "answer_time": pc.if_else(pa.array(answered), pa.array(c["answer_us"]).cast(ts), pa.nulls(n, ts)),
        "start_time": pa.array(c["start_us"]).cast(ts),
        "end_time": pa.array(c["end_us"]).cast(ts),
        "progress_time": pa.array(c["progress_us"]).cast(ts),
        "created_at": pa.array(c["end_us"]).cast(ts),
        "updated_at": pa.array(c["end_us"]).cast(ts),
        "cost": _money(c["cost"]),
        "total_cost": _money(c["cost"] + c["streaming"]),
        "streaming_cost": _money(c["streaming"]),
        "currency": pa.array(np.full(n, "INR")),
        "hangup_cause": pa.array(c["cause"]),
        "hangup_cause_code": pa.array(np.where(answered, 4000, 4100)),
        "hangup_cause_name": pa.array(c["cause"]),
        "hangup_disposition": pa.array(np.where(rng.random(n) < 0.5, "send_bye", "recv_bye")),
        "hangup_source": pa.array(_SOURCES[rng.integers(0, 4, size=n)]),
        "failure_code": pa.nulls(n, pa.string()),
        "failure_reason": pa.nulls(n, pa.string()),
        "bridge_uuid": pa.nulls(n, pa.string()),
        "sip_call_id": uuids,
        "sip_user_agent": pa.array(np.full(n, "Vobiz")),
        "codec": pa.array(_CODECS[rng.integers(0, 3, size=n)]),
        "mos": pa.array(c["mos"]),
        "jitter": pa.array(c["jitter"]),
        "packet_loss": pa.array(c["loss"]),
        "network_addr": pa.array(np.full(n, "3.110.99.6")),
        "carrier_ip": pa.nulls(n, pa.string()),
        "context": pa.array(np.full(n, "voice-api")),
        "region": pa.array(_REGIONS[rng.integers(0, 2, size=n)]),
        "origination_region": pa.array(_ORIGINS[rng.integers(0, 4, size=n)]),
        "campaign_id": pa.array(c["campaign"]),
        "customer_endpoint": pa.nulls(n, pa.string()),
        "trunk_id": pa.array(_TRUNKS[rng.integers(0, 3, size=n)]),
        "terminated_to": pa.nulls(n, pa.string()),
        "extra": pa.nulls(n, pa.string()),
    }
    table = pa.table({f.name: cols[f.name].cast(f.type) for f in FILE_SCHEMA}, schema=FILE_SCHEMA)
    return table.sort_by(list(SORT_KEYS))


def _calls(rng: np.random.Generator, call_date: dt.date, n: int) -> dict[str, Any]:
    """The calls' times, parties, outcome, quality and cost (the first draws of the day's stream)."""
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
    return {
        "start_us": start_us, "outbound": outbound, "answered": answered, "ring": ring, "billsec": billsec,
        "duration": duration, "cause": cause, "mos": mos, "jitter": jitter, "loss": loss, "campaign": campaign,
        "caller": caller, "dest": dest, "cost": cost, "streaming": streaming, "answer_us": answer_us,
        "end_us": end_us, "progress_us": progress_us,
    }  # fmt: skip


def publish_day(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date,
    n: int,
    seed: int = 0,
    rejects: int = 0,
) -> dict[str, Any]:
    """Publish :func:`day_table` of ``call_date`` with the lake's writer and publisher; return the manifest."""
    return write_partition(
        storage, layout, account_id, call_date, day_table(call_date, n, seed=seed), rejects=rejects
    )
