"""Seeded, vectorised synthetic CDRs: generation, visibility under the simulated clock, queries, rendering.

How the data is built (all of it deterministic in the config):

* Calls are generated per calendar day in IST. A day's start times are drawn at once from a diurnal curve
  (night calls included, campaign calls only 09:00-21:00 IST as TRAI requires), plus ~0.5% of the calls
  within 5 s either side of 00:00 IST and ~0.5% either side of 00:00 UTC, and sorted.
* The day is cut into blocks of ``BLOCK`` calls. Each block's "core" columns (direction, numbers, timing,
  billing, hangup cause, late/updated knobs) come from a random stream of its own, so a day's core can be
  built without rendering text, and a block's text (uuids, codecs, IPs, ...) can be rendered on its own.
* Knob draws (late, updated) use their own stream: turning a knob on changes nothing else.

Ids are ``ID_BASE + day_index * calls_per_day + position``, so id order is start_time order.
"""

from __future__ import annotations

import io
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .config import SimulatorConfig
from .fields import FIELD_NAMES, HANGUP_CAUSES

ID_BASE = 18_600_000
BLOCK = 65_536
IST_OFFSET = 19_800  # 00:00 UTC is 05:30 IST

# Call kinds.
API, CAMPAIGN, TRUNK, INBOUND = 0, 1, 2, 3
KIND_SHARE = np.array([0.20, 0.35, 0.10, 0.35])
ANSWER_P = np.array([0.48, 0.34, 0.43, 0.59])  # overall about 48% (campaigns only run by day)
RATE_INR_PER_MIN = np.array([0.35, 0.30, 0.45, 0.20])
STREAMING_INR_PER_MIN = 0.10

CAUSES = tuple(HANGUP_CAUSES)
_C = {c: i for i, c in enumerate(CAUSES)}
ANSWERED_CAUSE_P = {"NORMAL_CLEARING": 0.975, "MEDIA_TIMEOUT": 0.015, "NETWORK_OUT_OF_ORDER": 0.005,
                    "PROTOCOL_ERROR": 0.003, "UNKNOWN": 0.002}  # fmt: skip
UNANSWERED_CAUSE_P = {
    "NO_ANSWER": 0.35, "USER_BUSY": 0.18, "ORIGINATOR_CANCEL": 0.17, "CALL_REJECTED": 0.08,
    "UNALLOCATED_NUMBER": 0.05, "REJECTED": 0.03, "SERVICE_UNAVAILABLE": 0.03,
    "NORMAL_TEMPORARY_FAILURE": 0.03, "INVALID_NUMBER": 0.02, "SWITCH_CONGESTION": 0.02,
    "DESTINATION_OUT_OF_ORDER": 0.015, "SERVER_ERROR": 0.01, "NETWORK_OUT_OF_ORDER": 0.005,
    "UNKNOWN": 0.005, "PROTOCOL_ERROR": 0.003, "MEDIA_TIMEOUT": 0.002,
}  # fmt: skip


def _dist(p: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.array([_C[c] for c in p], dtype=np.int8)
    w = np.array(list(p.values()))
    return idx, w / w.sum()


ANS_IDX, ANS_W = _dist(ANSWERED_CAUSE_P)
UNANS_IDX, UNANS_W = _dist(UNANSWERED_CAUSE_P)

# Who hung up and how, per cause (answered, unanswered).
_SOURCE = ("Caller", "Callee", "Carrier", "Vobiz")
_DISPO = ("send_bye", "recv_bye", "send_cancel", "recv_cancel", "send_refuse", "recv_refuse")
_UNANS_SRC_DISPO = {
    "NO_ANSWER": (3, 2), "USER_BUSY": (1, 5), "ORIGINATOR_CANCEL": (0, 2), "CALL_REJECTED": (1, 5),
    "REJECTED": (1, 5), "INVALID_NUMBER": (2, 5), "UNALLOCATED_NUMBER": (2, 5),
    "SERVICE_UNAVAILABLE": (2, 5), "SERVER_ERROR": (3, 4), "MEDIA_TIMEOUT": (3, 0),
    "PROTOCOL_ERROR": (3, 4), "NETWORK_OUT_OF_ORDER": (2, 5), "DESTINATION_OUT_OF_ORDER": (2, 5),
    "NORMAL_TEMPORARY_FAILURE": (2, 5), "SWITCH_CONGESTION": (2, 5), "UNKNOWN": (3, 4),
    "NORMAL_CLEARING": (1, 1),
}  # fmt: skip
_ANS_SRC_DISPO = {"MEDIA_TIMEOUT": (3, 0), "NETWORK_OUT_OF_ORDER": (2, 1), "PROTOCOL_ERROR": (3, 0),
                  "UNKNOWN": (3, 0)}  # fmt: skip
UNANS_SRC = np.array([_UNANS_SRC_DISPO[c][0] for c in CAUSES], dtype=np.int8)
UNANS_DISPO = np.array([_UNANS_SRC_DISPO[c][1] for c in CAUSES], dtype=np.int8)
ANS_SRC = np.array([_ANS_SRC_DISPO.get(c, (-1, -1))[0] for c in CAUSES], dtype=np.int8)
ANS_DISPO = np.array([_ANS_SRC_DISPO.get(c, (-1, -1))[1] for c in CAUSES], dtype=np.int8)

# Calls per IST hour of day: a business-hours peak, an evening tail, and real night traffic.
HOURLY = np.array([0.6, 0.4, 0.3, 0.25, 0.3, 0.5, 1.0, 2.0, 3.5, 6.0, 8.0, 8.5,
                   7.5, 6.5, 7.5, 8.0, 7.5, 6.5, 5.0, 4.0, 3.0, 2.0, 1.2, 0.8])  # fmt: skip
HOURLY = HOURLY / HOURLY.sum()

CODECS = ("PCMA", "PCMU", "opus", "G722")
CODEC_P = np.array([0.55, 0.20, 0.20, 0.05])
REGIONS = ("ap-south-1", "ap-south-2")
CIRCLES = ("mumbai", "delhi", "bangalore", "chennai", "kolkata", "hyderabad", "pune", "ahmedabad")
CONTEXTS = ("voice-api", "voice-api", "sip-trunk", "public")
UA_INBOUND = ("Airtel-IMS-SBC", "Jio-IMS/5.0", "Vi-SBC 3.2", "Tata-SBC/7.1", "BSNL-SoftSwitch")
UA_TRUNK = (
    "Asterisk PBX 20.5.0",
    "FreeSWITCH-mod_sofia/1.10.11",
    "Grandstream UCM6302",
    "3CX Phone System 18",
)
CARRIER_PREFIX = ((125, 19), (49, 44), (182, 79), (59, 144), (117, 239))
MEDIA_PREFIX = ((3, 110), (13, 232), (65, 0), (3, 6))
AREA = (80, 22, 11, 44, 40, 33, 20)  # Bengaluru, Mumbai, Delhi, Chennai, Hyderabad, Kolkata, Pune
BRANDS = ("ShopKart", "QuickLoan", "HealthPlus", "EduSmart", "TravelNow", "InsureCo", "PayFast", "FoodHub")


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([abs(int(k)) for k in key]))


@dataclass(frozen=True)
class Catalog:
    """Per-seed fixtures: the account's DIDs, campaigns and CLIs, trunks, the customer population."""

    dids: np.ndarray  # int64 E.164 digits
    campaign_ids: tuple[str, ...]
    campaign_brands: tuple[str, ...]
    campaign_clis: np.ndarray  # int64, one per campaign
    trunk_ids: tuple[str, ...]
    trunk_endpoints: tuple[str, ...]
    customers: np.ndarray  # int64
    media_ips: tuple[str, ...]

    @staticmethod
    def build(cfg: SimulatorConfig) -> Catalog:
        r = _rng(cfg.seed, 999)
        areas = np.array(AREA)[r.integers(0, len(AREA), 24)]
        # Landline DIDs: 91 + area code + subscriber digits, 10 national digits in all.
        dids = np.array(
            [int(f"91{a}{r.integers(10 ** (7 if a >= 20 else 8) // 10 * 6, 10 ** (8 if a < 20 else 8) - 1)}"[:12])
             for a in areas], dtype=np.int64)  # fmt: skip
        n_camp = 6
        hexs = [f"{x:08x}" for x in r.integers(0, 2**32, n_camp)]
        campaign_ids = tuple(f"cmp_{h}" for h in hexs)
        brands = tuple(BRANDS[i] for i in r.choice(len(BRANDS), n_camp, replace=False))
        # Promotional campaigns dial from the 140xx series, service/transactional ones from 1600/1601.
        clis = []
        for j in range(n_camp):
            if j < 3:
                clis.append(int(f"91140{r.integers(0, 10**7):07d}"))
            else:
                clis.append(int(f"91{1600 + (j % 2)}{r.integers(0, 10**6):06d}"))
        trunk_ids = tuple(f"TRK_{x:06X}" for x in r.integers(0, 16**6, 4))
        ends = tuple(f"sip:pbx{j + 1:02d}@10.{r.integers(0, 255)}.{r.integers(0, 255)}.{r.integers(2, 254)}:5060"
                     for j in range(4))  # fmt: skip
        pool = max(2000, min(300_000, cfg.calls_per_day * 3))
        customers = 91_0000_000_000 + r.integers(6_000_000_000, 9_999_999_999, pool, dtype=np.int64)
        media = tuple(
            f"{a}.{b}.{r.integers(0, 255)}.{r.integers(1, 254)}" for a, b in MEDIA_PREFIX for _ in range(2)
        )
        return Catalog(
            dids, campaign_ids, brands, np.array(clis, dtype=np.int64), trunk_ids, ends, customers, media
        )


class DayCore:
    """The numeric columns of one day, enough to filter, summarise and decide visibility."""

    def __init__(self, cfg: SimulatorConfig, cat: Catalog, day_index: int) -> None:
        self.day_index = day_index
        self.day_start = cfg.first_epoch + day_index * 86400
        n = cfg.calls_per_day
        self.n = n
        self.start = self._start_times(cfg, day_index, n)
        cols: dict[str, list[np.ndarray]] = {}
        for k in range(0, max(1, math.ceil(n / BLOCK))):
            lo, hi = k * BLOCK, min(n, (k + 1) * BLOCK)
            for name, arr in self._block(cfg, cat, day_index, k, self.start[lo:hi]).items():
                cols.setdefault(name, []).append(arr)
        for name, parts in cols.items():
            setattr(self, name, np.concatenate(parts) if parts else np.zeros(0))
        self.ids = ID_BASE + day_index * cfg.calls_per_day + np.arange(n, dtype=np.int64)
        self.malformed = self._malformed(cfg, day_index, n)
        # A record picked as malformed is served malformed, not hostile: one fault per record.
        self.hostile = self._pick(cfg.hostile_records, cfg, day_index, n, 5).difference(self.malformed)
        self.multiline = (
            self._pick(cfg.multiline_records, cfg, day_index, n, 6)
            .difference(self.malformed)
            .difference(self.hostile)
        )

    @staticmethod
    def _start_times(cfg: SimulatorConfig, d: int, n: int) -> np.ndarray:
        r = _rng(cfg.seed, d, 0)
        edge = round(n * 0.005) if n >= 400 else min(2, n // 4)
        hours = r.choice(24, size=n, p=HOURLY)
        off = hours * 3600 + r.integers(0, 3600, n)
        if edge:
            # Within 5 s either side of 00:00 IST (both ends of the IST day) and of 00:00 UTC (05:30 IST).
            ist = np.where(r.random(edge) < 0.5, r.integers(0, 5, edge), r.integers(86395, 86400, edge))
            off[:edge] = ist
            off[edge : 2 * edge] = IST_OFFSET + r.integers(-5, 6, edge)
        off.sort()
        return cfg.first_epoch + d * 86400 + off.astype(np.int64)

    @staticmethod
    def _block(
        cfg: SimulatorConfig, cat: Catalog, d: int, k: int, start: np.ndarray
    ) -> dict[str, np.ndarray]:
        n = len(start)
        r = _rng(cfg.seed, d, 1, k)
        hour = ((start - cfg.first_epoch) % 86400) // 3600
        p = np.tile(KIND_SHARE, (n, 1))
        off_hours = (hour < 9) | (hour >= 21)
        p[off_hours, CAMPAIGN] = 0.0
        p /= p.sum(axis=1, keepdims=True)
        kind = (r.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1).astype(np.int8)
        answered = r.random(n) < ANSWER_P[kind]
        cause = np.where(answered, r.choice(ANS_IDX, n, p=ANS_W), r.choice(UNANS_IDX, n, p=UNANS_W)).astype(
            np.int8
        )
        # Ring time: a few seconds before an answer; by cause when unanswered.
        ring_ans = np.minimum(1 + r.gamma(2.0, 3.5, n), 45).astype(np.int32)
        ring_un = r.integers(0, 6, n).astype(np.int32)
        no_ans = cause == _C["NO_ANSWER"]
        ring_un[no_ans] = np.array([30, 45, 60])[r.integers(0, 3, n)][no_ans] + r.integers(0, 3, n)[no_ans]
        cancel = cause == _C["ORIGINATOR_CANCEL"]
        ring_un[cancel] = r.integers(1, 31, n)[cancel]
        rej = (cause == _C["CALL_REJECTED"]) | (cause == _C["REJECTED"])
        ring_un[rej] = r.integers(1, 16, n)[rej]
        bad = (cause == _C["INVALID_NUMBER"]) | (cause == _C["UNALLOCATED_NUMBER"])
        ring_un[bad] = r.integers(0, 3, n)[bad]
        ring = np.where(answered, ring_ans, ring_un).astype(np.int32)
        talk = np.minimum(1 + r.lognormal(math.log(17), 1.0, n), 3600).astype(np.int32)
        billsec = np.where(answered, talk, 0).astype(np.int32)
        # Numbers: customers by a skewed draw (repeat callers exist), the account's DIDs, campaign CLIs.
        cust = cat.customers[(len(cat.customers) * r.random(n) ** 2).astype(np.int64)]
        did = cat.dids[r.integers(0, len(cat.dids), n)]
        camp = r.integers(0, len(cat.campaign_ids), n).astype(np.int16)
        trunk = r.integers(0, len(cat.trunk_ids), n).astype(np.int16)
        caller = np.where(kind == INBOUND, cust, np.where(kind == CAMPAIGN, cat.campaign_clis[camp], did))
        dest = np.where(kind == INBOUND, did, cust)
        camp = np.where(kind == CAMPAIGN, camp, -1).astype(np.int16)
        trunk = np.where(kind == TRUNK, trunk, -1).astype(np.int16)
        streaming = (r.random(n) < 0.10) & ((kind == API) | (kind == INBOUND))
        progress_off = np.minimum(ring, r.integers(0, 3, n)).astype(np.int32)
        created_off = r.integers(0, 3, n).astype(np.int32)
        # Updated records: answered calls get a corrected billsec, unanswered ones a reclassified cause
        upd_delay = r.integers(1800, 20 * 3600, n)
        # (billed time is corrected downwards, so the call still ends before its CDR was created)
        cut = np.minimum(r.integers(1, 30, n), np.maximum(billsec - 1, 0))
        billsec2 = np.where(answered, billsec - cut, 0).astype(np.int32)
        cause2 = np.where(answered, cause, r.choice(UNANS_IDX, n, p=UNANS_W)).astype(np.int8)
        cause2[answered & (cut == 0)] = _C["MEDIA_TIMEOUT"]  # a 1 s call: the cause is what changes
        same = (~answered) & (cause2 == cause)
        cause2[same] = np.where(cause[same] == _C["NO_ANSWER"], _C["ORIGINATOR_CANCEL"], _C["NO_ANSWER"])
        kr = _rng(cfg.seed, d, 4, k)  # knobs: their own stream, so turning one on changes nothing else
        late = kr.random(n) < cfg.late_fraction
        updated = kr.random(n) < cfg.updated_fraction
        end = start + ring + billsec
        created = end + created_off + np.where(late, int(cfg.late_delay.total_seconds()), 0)
        upd_at = np.where(updated, created + upd_delay, 0)
        return dict(kind=kind, answered=answered, cause=cause, ring=ring, billsec=billsec, caller=caller,
                    dest=dest, camp=camp, trunk=trunk, streaming=streaming, progress_off=progress_off,
                    created=created, late=late, upd_at=upd_at, billsec2=billsec2, cause2=cause2)  # fmt: skip

    @staticmethod
    def _malformed(cfg: SimulatorConfig, d: int, n: int) -> dict[int, int]:
        if not cfg.malformed_records or not n:
            return {}
        rows = _rng(cfg.seed, d, 3).choice(n, size=min(n, cfg.malformed_records), replace=False)
        kinds = cfg.malformed_kinds
        return {int(row): kinds[j % len(kinds)] for j, row in enumerate(sorted(rows))}

    @staticmethod
    def _pick(count: int, cfg: SimulatorConfig, d: int, n: int, stream: int) -> frozenset[int]:
        """``count`` rows of the day, drawn from their own random stream."""
        if not count or not n:
            return frozenset()
        rows = _rng(cfg.seed, d, stream).choice(n, size=min(n, count), replace=False)
        return frozenset(int(r) for r in rows)


#: What a hostile record (``hostile_records``) holds in each free-text field: legal API text that breaks
#: naive renderers and naive CSV readers (CR, LF and CRLF inside a value, quotes, commas: the export quotes
#: them as RFC 4180 says). The same values on every hostile record, so the long cause ranks among the top
#: causes.
HOSTILE_VALUES: dict[str, str] = {
    "caller_id_name": "=cmd|' /C calc'!A0 <b>Mr +91 98765 43210</b>\r\nline2",
    "destination_number": "tel:+919876543210;ext=<b>1</b>",
    "hangup_cause": "LONG_" + "CAUSE_" * 600,
    "hangup_cause_name": "Cause with ünïcödé, an \x1b[31m escape and a \x07 bell",
    "hangup_disposition": "@SUM(A1:A9)",
    "hangup_source": '=HYPERLINK("http://evil.example/?q=1","click")',
    "failure_code": '-2+3, "quoted", \r',
    "failure_reason": "Callee 080-6548-0214 busy;\r\ncall +91 98765 43210 back\n" + "and again " * 300,
    "bridge_uuid": "<script>alert(1)</script>",
    "sip_call_id": "919876543210@10.0.0.1;tag=<x>",
    "sip_user_agent": "\tTab-led agent\nsecond line\n",
    "codec": "+1+1",
    "network_addr": "&lt;not an ip&gt; & <u>",
    "carrier_ip": "\r@carrier\r\r",
    "context": "\x0bVT-led \x1f unit separator",
    "region": "<img src=x onerror=alert(1)>",
    "origination_region": "Circle " + "long " * 500,
    "campaign_id": "-CAMP+919876543210",
    "customer_endpoint": "sip:+919876543210@trunk.example",
    "trunk_id": "TRK919876543210",
    "terminated_to": "=1+1",
}


#: What a multiline record (``multiline_records``) holds: CR, LF and CRLF inside values, with quotes and
#: commas, each value within its field's size limit, so the record is stored, not quarantined.
MULTILINE_VALUES: dict[str, str] = {
    "caller_id_name": "line1\r\nline2",
    "hangup_cause_name": "lone\rCR",
    "failure_reason": 'Busy,\r\n"call back" later\n',
    "sip_user_agent": "agent\nv2",
    "context": '"quoted", with a comma',
    "campaign_id": "\r",
}


def costs(kind: np.ndarray, billsec: np.ndarray, streaming: np.ndarray) -> tuple[np.ndarray, ...]:
    """INR per started (billed) minute; streaming adds its own per-minute charge."""
    minutes = (billsec + 59) // 60
    cost = np.round(minutes * RATE_INR_PER_MIN[kind], 2)
    stream = np.round(np.where(streaming, minutes * STREAMING_INR_PER_MIN, 0.0), 2)
    return cost, stream, np.round(cost + stream, 2)


@dataclass
class DayView:
    """A day's core as seen at one simulated instant: which calls exist and which version of each."""

    core: DayCore
    visible: np.ndarray
    updated: np.ndarray
    billsec: np.ndarray
    duration: np.ndarray
    cause: np.ndarray
    total_cost: np.ndarray

    @staticmethod
    def build(core: DayCore, now: int) -> DayView:
        upd = (core.upd_at > 0) & (core.upd_at <= now)
        billsec = np.where(upd, core.billsec2, core.billsec)
        _, _, total = costs(core.kind, billsec, core.streaming)
        return DayView(core, core.created <= now, upd, billsec, core.ring + billsec,
                       np.where(upd, core.cause2, core.cause), total)  # fmt: skip


@dataclass(frozen=True)
class Filters:
    from_number: int | None = None
    to_number: int | None = None
    lo: int | None = None  # epoch window [lo, hi) on start_time
    hi: int | None = None
    direction: int | None = None  # 0 inbound, 1 outbound
    min_duration: int | None = None


@dataclass
class Selection:
    """The calls matching a query, in ascending (start_time, id) order, with the summary figures."""

    days: np.ndarray
    rows: np.ndarray
    summary: dict

    def __len__(self) -> int:
        return len(self.rows)


def _fixed_strings(chars: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
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


def _ts(epoch: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
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
    return _fixed_strings(out, mask)


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _uuids(raw: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
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
    return _fixed_strings(out, mask)


def _phone(digits: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pc.binary_join_element_wise("+", pa.array(digits, pa.int64(), mask=mask).cast(pa.string()), "")


def _cat(values: tuple[str, ...] | list[str], idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pc.take(pa.array(list(values), pa.string()), pa.array(idx.astype(np.int32), mask=mask))


def _ip(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    parts = [pa.array(x.astype(np.int64), mask=mask).cast(pa.string()) for x in (a, b, c, d)]
    return pc.binary_join_element_wise(*parts, ".")


class Cold(Exception):
    """Raised in cached-only mode when an answer needs computing (the caller moves to a worker thread)."""


_local = threading.local()


def _need(what: str) -> None:
    if getattr(_local, "cached_only", False):
        raise Cold(what)


class cached_only:  # noqa: N801 - used as a context manager like a function
    """Within this block (on this thread), answer only from caches; raise :class:`Cold` otherwise."""

    def __enter__(self) -> None:
        _local.cached_only = True

    def __exit__(self, *exc: object) -> None:
        _local.cached_only = False


class Block:
    """One rendered block: the Arrow table of API records (text as served), and its CSV lazily."""

    def __init__(
        self,
        table: pa.Table,
        malformed: dict[int, str],
        extra: str | None,
        field_bytes: int = 10 << 20,
        overrides: dict[int, dict[str, str]] | None = None,
    ) -> None:
        self.table = table
        self.malformed = malformed  # local row -> kind
        self.overrides = overrides or {}  # local row -> the values it holds instead (HOSTILE_VALUES, ...)
        self.extra = extra
        self.field_bytes = field_bytes
        self._csv: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self._json: tuple[memoryview, np.ndarray] | None = None

    @property
    def nbytes(self) -> int:
        n = self.table.nbytes
        if self._csv:
            n += len(self._csv[0]) + 16 * len(self._csv[1])
        if self._json:
            n += self._json[0].nbytes + 8 * len(self._json[1])
        return n

    def _json_rows(self) -> tuple[memoryview, np.ndarray]:
        """Every record of the block as JSON text, rendered column-wise in one pass (no per-record Python)."""
        if self._json is None:
            _need("json")
            parts: list = []
            for i, (name, col) in enumerate(zip(self.table.column_names, self.table.columns, strict=True)):
                parts.append(("{" if i == 0 else ",") + f'"{name}":')
                if col.type == pa.string():  # no generated value needs escaping (checked at import)
                    col = pc.binary_join_element_wise('"', col, '"', "")
                else:  # numbers: Arrow's shortest round-trip text, a valid JSON number
                    col = col.cast(pa.string())
                parts.append(pc.fill_null(col, "null"))
            parts.append("}")
            arr = pc.binary_join_element_wise(*parts, "")
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            _, offsets, data = arr.buffers()
            off = np.frombuffer(offsets, dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1].astype(
                np.int64
            )
            self._json = (memoryview(data), off)
        return self._json

    def json_rows(self, local_rows: np.ndarray) -> list[bytes]:
        """The served JSON text of each record (malformed ones as served: a wrong type, a missing field)."""
        data, off = self._json_rows()
        out = [data[off[r] : off[r + 1]].tobytes() for r in local_rows.tolist()]
        if self.malformed:
            for j, row in enumerate(local_rows.tolist()):
                kind = self.malformed.get(row)
                if kind is not None:
                    out[j] = _malformed_json(out[j], kind, self.field_bytes)
        if self.overrides:
            for j, row in enumerate(local_rows.tolist()):
                values = self.overrides.get(row)
                if values:  # escaped by orjson: the fast path assumes text needing none
                    rec = orjson.loads(out[j])
                    rec.update((k, v) for k, v in values.items() if k in rec)
                    out[j] = orjson.dumps(rec)
        return out

    def csv(self) -> tuple[bytes, np.ndarray, np.ndarray]:
        """The block as CSV records (no header), with each record's start and end offsets.

        Generated values hold no comma, quote, CR or LF: the block is written unquoted (valid CSV, and
        faster). Only the records holding other values (``overrides``) are written quoted, as a server
        quoting where needed does, and only malformed records are malformed.
        """
        if self._csv is None:
            data = _write_csv(self.table)
            replaced = self._overridden_records()
            if self.malformed:
                ends = _record_ends(data)
                starts = np.concatenate(([0], ends[:-1]))
                names = self.table.column_names
                for row, kind in self.malformed.items():
                    line = data[int(starts[row]) : int(ends[row]) - 1]
                    replaced[row] = _malformed_csv(line, names, kind, self.field_bytes) + b"\n"
            if replaced:
                data = _replace_records(data, replaced)
            ends = _record_ends(data)
            starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
            if len(ends) != self.table.num_rows:  # guard the offsets: a record ends at an unquoted newline
                raise RuntimeError("CSV rendering produced an unexpected number of records")
            self._csv = (data, starts, ends)
        return self._csv

    def _overridden_records(self) -> dict[int, bytes]:
        """Each overridden row's CSV record (newline included), its values quoted (RFC 4180)."""
        if not self.overrides:
            return {}
        rows = sorted(self.overrides)
        t = self.table.take(pa.array(rows))
        for name in dict.fromkeys(k for values in self.overrides.values() for k in values):
            i = t.schema.get_field_index(name)
            if i >= 0:
                old = t.column(name).cast(pa.string()).to_pylist()
                new = [self.overrides[r].get(name, v) for r, v in zip(rows, old, strict=True)]
                t = t.set_column(i, name, pa.array(new, pa.string()))
        data = _write_csv(t)
        ends = _record_ends(data)
        starts = np.concatenate(([0], ends[:-1]))
        return {r: data[int(a) : int(b)] for r, a, b in zip(rows, starts, ends, strict=True)}

    def csv_rows(self, local_rows: np.ndarray) -> bytes | memoryview:
        data, starts, ends = self.csv()
        if not len(local_rows):
            return b""
        first, last = int(local_rows[0]), int(local_rows[-1])
        if last - first + 1 == len(local_rows):  # contiguous: a zero-copy slice
            return memoryview(data)[starts[first] : ends[last]]
        s, e = starts[local_rows], ends[local_rows]
        lens = e - s
        shift = np.repeat(s - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
        idx = shift + np.arange(int(lens.sum()))
        return np.frombuffer(data, dtype=np.uint8)[idx].tobytes()


def _write_csv(t: pa.Table) -> bytes:
    """A table as CSV (no header): unquoted when no value needs quotes, else with quoted text."""
    buf = io.BytesIO()
    try:
        pacsv.write_csv(
            t, buf, pacsv.WriteOptions(include_header=False, batch_size=8192, quoting_style="none")
        )
    except pa.ArrowInvalid:  # a comma, quote, CR or LF: quoted, a quote doubled, CR and LF kept inside
        buf = io.BytesIO()
        pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, batch_size=8192))
    return buf.getvalue()


def _replace_records(data: bytes, replaced: dict[int, bytes]) -> bytes:
    """CSV records with the given rows' records replaced."""
    ends = _record_ends(data)
    starts = np.concatenate(([0], ends[:-1]))
    pieces, at = [], 0
    for row in sorted(replaced):
        pieces += [data[at : int(starts[row])], replaced[row]]
        at = int(ends[row])
    pieces.append(data[at:])
    return b"".join(pieces)


def _record_ends(data: bytes) -> np.ndarray:
    """The offset just past each CSV record's newline.

    A quoted value may hold CR and LF (RFC 4180), so an LF ends a record only outside quotes: after an even
    number of quote characters, as the writer doubles a quote inside a value.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    lf = np.flatnonzero(buf == 10)
    if data.find(b'"') >= 0:
        quotes_before = np.searchsorted(np.flatnonzero(buf == 34), lf)
        lf = lf[quotes_before % 2 == 0]
    return lf + 1


_PLACEHOLDER = "\x00malformed\x00"


def _malformed_json(record: bytes, kind: str, field_bytes: int) -> bytes:
    """One record's JSON text, malformed as ``kind`` (config.MALFORMED_KINDS); raw bytes where JSON's own
    encoder would refuse (NaN, bytes that are not UTF-8)."""
    rec = orjson.loads(record)
    raw: dict[str, bytes] = {}
    if kind == "wrong_type":
        rec["duration"] = "abc"
    elif kind == "missing_field":
        del rec["hangup_cause"]
    elif kind == "bad_shape":
        return orjson.dumps(list(rec.values()))
    elif kind == "short_row":
        return orjson.dumps(",".join("" if v is None else str(v) for v in rec.values()))
    elif kind == "invalid_utf8":
        raw["caller_id_name"] = orjson.dumps(rec["caller_id_name"])[:-1] + b'\xff"'
    elif kind == "oversized":
        rec["failure_reason"] = "R" * field_bytes
    elif kind == "non_finite":
        raw["mos"], raw["jitter"] = b"NaN", b"Infinity"
    else:  # start_1970 / start_2099
        rec["start_time"] = f"{kind[-4:]}-01-01T00:00:00Z"
    out = orjson.dumps({**rec, **dict.fromkeys(raw, _PLACEHOLDER)})
    for name, value in raw.items():
        out = out.replace(
            b'"' + name.encode() + b'":' + orjson.dumps(_PLACEHOLDER), b'"' + name.encode() + b'":' + value
        )
    return out


def _parse_served(record: bytes) -> Any:
    try:
        return orjson.loads(record)
    except orjson.JSONDecodeError:  # NaN, or bytes that are not UTF-8: as a lenient client reads them
        return json.loads(record.decode("utf-8", "surrogateescape"))


def _malformed_csv(line: bytes, names: list[str], kind: str, field_bytes: int) -> bytes:
    """One unquoted CSV line (no newline), malformed as ``kind`` (config.MALFORMED_KINDS)."""
    cells = line.split(b",")
    col = {n: i for i, n in enumerate(names)}
    if kind == "wrong_type":
        cells[col["duration"]] = b"abc"
    elif kind == "missing_field":
        cells[col["hangup_cause"]] = b""
    elif kind == "bad_shape":
        cells.append(b"surplus")
    elif kind == "short_row":
        cells = cells[: len(cells) // 2]
    elif kind == "invalid_utf8":
        cells[col["caller_id_name"]] += b"\xff"
    elif kind == "oversized":
        cells[col["failure_reason"]] = b"R" * field_bytes
    elif kind == "non_finite":
        cells[col["mos"]], cells[col["jitter"]] = b"NaN", b"inf"
    else:
        cells[col["start_time"]] = f"{kind[-4:]}-01-01T00:00:00Z".encode()
    return b",".join(cells)


class Dataset:
    """The simulator's data: cached day cores, day views per clock, rendered blocks, query results."""

    def __init__(self, cfg: SimulatorConfig) -> None:
        self.cfg = cfg
        self.catalog = Catalog.build(cfg)
        self._lock = threading.RLock()
        self._cores: dict[int, DayCore] = {}
        self._views: OrderedDict[tuple[int, int], DayView] = OrderedDict()
        self._blocks: OrderedDict[tuple[int, int, int], Block] = OrderedDict()
        self._queries: OrderedDict[tuple, Selection] = OrderedDict()
        self._uuid_index: dict[str, tuple[int, int]] = {}
        self._uuid_days: set[int] = set()

    # -- days ---------------------------------------------------------------------------------------------
    def day_dates(self) -> list[date]:
        return [self.cfg.start_date + timedelta(days=i) for i in range(self.cfg.days)]

    def core(self, d: int) -> DayCore:
        with self._lock:
            c = self._cores.get(d)
            if c is None:
                _need("core")
                c = self._cores[d] = DayCore(self.cfg, self.catalog, d)
            return c

    def view(self, d: int, now: int) -> DayView:
        with self._lock:
            key = (d, now)
            v = self._views.get(key)
            if v is None:
                _need("view")
                v = self._views[key] = DayView.build(self.core(d), now)
                while len(self._views) > 4 * self.cfg.days + 8:
                    self._views.popitem(last=False)
            else:
                self._views.move_to_end(key)
            return v

    def days_overlapping(self, lo: int | None, hi: int | None) -> range:
        first, n = self.cfg.first_epoch, self.cfg.days
        a = 0 if lo is None else max(0, (lo - first) // 86400)
        b = n if hi is None else min(n, -(-(hi - first) // 86400))
        return range(int(a), int(max(a, b)))

    # -- queries ------------------------------------------------------------------------------------------
    def _mask(self, v: DayView, f: Filters) -> np.ndarray:
        c = v.core
        m = v.visible.copy()
        if f.lo is not None:
            m &= c.start >= f.lo
        if f.hi is not None:
            m &= c.start < f.hi
        if f.from_number is not None:
            m &= c.caller == f.from_number
        if f.to_number is not None:
            m &= c.dest == f.to_number
        if f.direction is not None:
            m &= (c.kind != INBOUND) == bool(f.direction)
        if f.min_duration is not None:
            m &= v.duration >= f.min_duration
        return m

    def select(self, f: Filters, now: int) -> Selection:
        key = (f, now)
        with self._lock:
            hit = self._queries.get(key)
            if hit is not None:
                self._queries.move_to_end(key)
                return hit
        _need("select")
        days, rows = [], []
        calls = answered = dur = bill = 0
        cost = 0.0
        last = None
        for d in self.days_overlapping(f.lo, f.hi):
            v = self.view(d, now)
            idx = np.flatnonzero(self._mask(v, f))
            if not len(idx):
                continue
            days.append(np.full(len(idx), d, dtype=np.int32))
            rows.append(idx.astype(np.int32))
            b = v.billsec[idx]
            calls += len(idx)
            answered += int((b > 0).sum())
            dur += int(v.duration[idx].sum())
            bill += int(b.sum())
            cost += float(v.total_cost[idx].sum())
            last = int(v.core.start[idx[-1]])
        summary = {
            "totalCalls": calls,
            "answeredCalls": answered,
            "answerRate": round(100.0 * answered / calls, 1) if calls else 0.0,
            # The documented example (61211 billable s / 2171 answered = "28s") is the average talk time
            # of answered calls, not total duration over all calls (26 s there).
            "avgCallDuration": f"{round(bill / answered) if answered else 0}s",
            "total_duration_seconds": dur,
            "total_billable_seconds": bill,
            "total_cost": round(cost, 2),
            "last_call_at": _iso(last) if last is not None else None,
        }
        sel = Selection(
            np.concatenate(days) if days else np.zeros(0, np.int32),
            np.concatenate(rows) if rows else np.zeros(0, np.int32),
            summary,
        )
        with self._lock:
            self._queries[key] = sel
            # at most 64 queries and 8M selected rows (64 MB of indices) remembered
            while len(self._queries) > 1 and (
                len(self._queries) > 64 or sum(len(x) for x in self._queries.values()) > 8_000_000
            ):
                self._queries.popitem(last=False)
        return sel

    # -- rendering ----------------------------------------------------------------------------------------
    def block(self, d: int, k: int, now: int) -> Block:
        v = self.view(d, now)
        lo, hi = k * BLOCK, min(v.core.n, (k + 1) * BLOCK)
        key = (d, k, int(v.updated[lo:hi].sum()))  # the updated set is a threshold on now: its size names it
        with self._lock:
            b = self._blocks.get(key)
            if b is not None:
                self._blocks.move_to_end(key)
                return b
        _need("block")
        b = self._render(v, k, lo, hi)
        with self._lock:
            self._blocks[key] = b
            budget = self.cfg.cache_mb * 1024 * 1024
            while len(self._blocks) > 1 and sum(x.nbytes for x in self._blocks.values()) > budget:
                self._blocks.popitem(last=False)
        return b

    def _uuid_bytes(self, d: int, k: int, n: int) -> tuple[np.random.Generator, np.ndarray]:
        r = _rng(self.cfg.seed, d, 2, k)
        return r, r.integers(0, 256, (n, 16), dtype=np.uint8)

    def _render(self, v: DayView, k: int, lo: int, hi: int) -> Block:
        cfg, cat, c = self.cfg, self.catalog, v.core
        n = hi - lo
        s = slice(lo, hi)
        r, uuid_raw = self._uuid_bytes(c.day_index, k, n)
        bridge_raw = r.integers(0, 256, (n, 16), dtype=np.uint8)
        sip_raw = r.integers(0, 256, (n, 16), dtype=np.uint8)
        kind, start, ring = c.kind[s], c.start[s], c.ring[s]
        billsec, cause, upd = v.billsec[s], v.cause[s], v.updated[s]
        answered = billsec > 0
        inbound = kind == INBOUND
        end = start + ring + billsec
        cost, stream, total = costs(kind, billsec, c.streaming[s])
        created = c.created[s]
        updated_at = np.where(upd, c.upd_at[s], created)
        # Quality: most answered calls sound good (MOS ~4.3), a tail does not; no media, no measurement.
        poor = r.random(n) < 0.08
        mos = np.where(poor, r.uniform(2.0, 3.8, n), np.clip(r.normal(4.31, 0.1, n), 3.8, 4.5))
        jitter = np.where(poor, r.uniform(20, 120, n), r.exponential(3.0, n))
        loss = np.where(poor, r.uniform(1, 15, n), np.minimum(r.exponential(0.15, n), 1.0))
        mos = np.where(answered, np.round(mos, 2), 4.5)
        jitter = np.where(answered, np.round(jitter, 1), 0.0)
        loss = np.where(answered, np.round(loss, 2), 0.0)
        codec_idx = r.choice(len(CODECS), n, p=CODEC_P)
        codec_null = ~answered & ((ring == 0) | (r.random(n) < 0.4))
        src_u = r.random(n) < 0.45  # answered NORMAL_CLEARING: caller hangs up 45%
        src = np.where(answered, np.where(ANS_SRC[cause] >= 0, ANS_SRC[cause], np.where(src_u, 0, 1)),
                       UNANS_SRC[cause])  # fmt: skip
        dispo = np.where(answered, np.where(ANS_DISPO[cause] >= 0, ANS_DISPO[cause], np.where(src_u, 0, 1)),
                         UNANS_DISPO[cause])  # fmt: skip
        codes = np.array([HANGUP_CAUSES[x][0] for x in CAUSES], dtype=np.int64)
        names = [HANGUP_CAUSES[x][1] for x in CAUSES]
        fcodes = [HANGUP_CAUSES[x][2] for x in CAUSES]
        freasons = [HANGUP_CAUSES[x][3] for x in CAUSES]
        region = (r.random(n) < 0.1).astype(np.int8)
        circle = np.where(inbound, r.integers(0, len(CIRCLES), n), np.where(region == 1, 5, 0))
        media = r.integers(0, len(cat.media_ips), n)
        cprefix = np.array(CARRIER_PREFIX)[r.integers(0, len(CARRIER_PREFIX), n)]
        c3, c4 = r.integers(0, 256, n), r.integers(1, 255, n)
        carrier_null = (kind == TRUNK) | (r.random(n) < 0.3)
        ua_in, ua_tr = r.integers(0, len(UA_INBOUND), n), r.integers(0, len(UA_TRUNK), n)
        forwarded = inbound & answered & (r.random(n) < 0.06)
        fwd_to = cat.customers[r.integers(0, len(cat.customers), n)]
        name_unknown = r.random(n) < 0.15
        caller = c.caller[s]
        camp, trunk = c.camp[s], c.trunk[s]
        # caller_id_name: the brand for campaigns, the number's digits otherwise (or "Unknown" inbound).
        digits = pa.array(caller, pa.int64()).cast(pa.string())
        brand = _cat(cat.campaign_brands, np.maximum(camp, 0))
        cid_name = pc.if_else(pa.array(kind == CAMPAIGN), brand, digits)
        cid_name = pc.if_else(pa.array(inbound & name_unknown), pa.scalar("Unknown"), cid_name)
        ua = pc.if_else(
            pa.array(inbound),
            _cat(UA_INBOUND, ua_in),
            pc.if_else(pa.array(kind == TRUNK), _cat(UA_TRUNK, ua_tr), pa.scalar("Vobiz")),
        )
        cols: dict[str, pa.Array] = {
            "id": pa.array(c.ids[s]),
            "uuid": _uuids(uuid_raw),
            "account_id": pc.take(pa.array([cfg.auth_id]), pa.array(np.zeros(n, np.int32))),
            "call_direction": _cat(("outbound", "inbound"), inbound.astype(np.int8)),
            "caller_id_name": cid_name,
            "caller_id_number": _phone(caller),
            "destination_number": _phone(c.dest[s]),
            "duration": pa.array((ring + billsec).astype(np.int64)),
            "billsec": pa.array(billsec.astype(np.int64)),
            "ring_time": pa.array(ring.astype(np.int64)),
            "answer_time": _ts(start + ring, mask=~answered),
            "start_time": _ts(start),
            "end_time": _ts(end),
            "progress_time": _ts(start + c.progress_off[s]),
            "created_at": _ts(created),
            "updated_at": _ts(updated_at),
            "cost": pa.array(cost),
            "total_cost": pa.array(total),
            "streaming_cost": pa.array(stream),
            "currency": pc.take(pa.array(["INR"]), pa.array(np.zeros(n, np.int32))),
            "hangup_cause": _cat(CAUSES, cause),
            "hangup_cause_code": pa.array(codes[cause]),
            "hangup_cause_name": _cat(names, cause),
            "hangup_disposition": _cat(_DISPO, dispo),
            "hangup_source": _cat(_SOURCE, src),
            "failure_code": _cat(fcodes, cause, mask=answered),
            "failure_reason": _cat(freasons, cause, mask=answered),
            "bridge_uuid": _uuids(bridge_raw, mask=~answered),
            "sip_call_id": _uuids(sip_raw),
            "sip_user_agent": ua,
            "codec": _cat(CODECS, codec_idx, mask=codec_null),
            "mos": pa.array(mos),
            "jitter": pa.array(jitter),
            "packet_loss": pa.array(loss),
            "network_addr": _cat(cat.media_ips, media),
            "carrier_ip": _ip(cprefix[:, 0], cprefix[:, 1], c3, c4, mask=carrier_null),
            "context": _cat(CONTEXTS, kind),
            "region": _cat(REGIONS, region),
            "origination_region": _cat(CIRCLES, circle),
            "campaign_id": _cat(cat.campaign_ids, np.maximum(camp, 0), mask=camp < 0),
            "customer_endpoint": _cat(cat.trunk_endpoints, np.maximum(trunk, 0), mask=trunk < 0),
            "trunk_id": _cat(cat.trunk_ids, np.maximum(trunk, 0), mask=trunk < 0),
            "terminated_to": _phone(fwd_to, mask=~forwarded),
        }
        if cfg.extra_field:
            uu = cols["uuid"]
            url = pc.binary_join_element_wise(f"https://media.vobiz.ai/v1/Account/{cfg.auth_id}/Recording/", uu,
                                              ".mp3", "")  # fmt: skip
            cols[cfg.extra_field] = pc.if_else(pa.array(answered), url, pa.scalar(None, pa.string()))
        names_ = list(FIELD_NAMES) + ([cfg.extra_field] if cfg.extra_field else [])
        table = pa.table([cols[x] for x in names_], names=names_)
        mal = {row - lo: kind_ for row, kind_ in c.malformed.items() if lo <= row < hi}
        overrides = {row - lo: HOSTILE_VALUES for row in c.hostile if lo <= row < hi}
        overrides.update((row - lo, MULTILINE_VALUES) for row in c.multiline if lo <= row < hi)
        return Block(table, mal, cfg.extra_field, cfg.malformed_field_bytes, overrides)

    def json_records(self, days: np.ndarray, rows: np.ndarray, now: int) -> list[bytes]:
        """The served JSON text of the records at (day, row) pairs, in the given order."""
        out: list[bytes] = []
        i, n = 0, len(rows)
        while i < n:
            d, k = int(days[i]), int(rows[i]) // BLOCK
            j = i + 1
            while j < n and days[j] == d and rows[j] // BLOCK == k:
                j += 1
            out.extend(self.block(d, k, now).json_rows(rows[i:j].astype(np.int64) - k * BLOCK))
            i = j
        return out

    def dicts(self, days: np.ndarray, rows: np.ndarray, now: int) -> list[Any]:
        """The records as parsed from their served JSON (a malformed one may be a list or a string)."""
        return [_parse_served(b) for b in self.json_records(days, rows, now)]

    def csv_chunks(self, sel: Selection, now: int, chunk: int = 1 << 20) -> Iterator[bytes | memoryview]:
        """The selection as CSV lines in ascending order, in chunks of about ``chunk`` bytes.

        The next block is rendered on a second thread while this one is sent (numpy and Arrow release the
        GIL); at most two blocks are in flight, so memory stays bounded whatever the size of the day.
        """
        days, rows = sel.days, sel.rows
        segments: list[tuple[int, int, int, int]] = []  # (day, block, first, end) runs of the selection
        i, n = 0, len(rows)
        while i < n:
            d, k = int(days[i]), int(rows[i]) // BLOCK
            j = int(np.searchsorted(days, d, side="right"))
            # rows are ascending within a day: the end of this block's run by binary search
            j = i + int(np.searchsorted(rows[i:j], (k + 1) * BLOCK))
            segments.append((d, k, i, j))
            i = j

        def prepare(seg: tuple[int, int, int, int]) -> Block:
            b = self.block(seg[0], seg[1], now)
            b.csv()
            return b

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vobiz-sim-render")
        try:
            ahead: Future | None = pool.submit(prepare, segments[0]) if segments else None
            pending: list[bytes | memoryview] = []
            size = 0
            for s_i, (_, k, i, j) in enumerate(segments):
                block = ahead.result()  # type: ignore[union-attr]
                ahead = pool.submit(prepare, segments[s_i + 1]) if s_i + 1 < len(segments) else None
                mv = memoryview(block.csv_rows(rows[i:j].astype(np.int64) - k * BLOCK))
                for off in range(0, len(mv), chunk):
                    part = mv[off : off + chunk]
                    pending.append(part)
                    size += len(part)
                    if size >= chunk:
                        yield b"".join(pending) if len(pending) > 1 else pending[0]
                        pending, size = [], 0
            if pending:
                yield b"".join(pending)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def header(self) -> bytes:
        names = list(FIELD_NAMES) + ([self.cfg.extra_field] if self.cfg.extra_field else [])
        return (",".join(names) + "\n").encode()

    # -- single-record lookup -----------------------------------------------------------------------------
    def locate(self, call_id: str) -> tuple[int, int] | None:
        """(day, row) of a call by uuid or numeric id, or None."""
        if call_id.isdigit():
            i = int(call_id) - ID_BASE
            if 0 <= i < self.cfg.days * self.cfg.calls_per_day:
                return divmod(i, self.cfg.calls_per_day)
            return None
        call_id = call_id.lower()
        with self._lock:
            hit = self._uuid_index.get(call_id)
            if hit is not None:
                return hit
            _need("uuid index")
            for d in range(self.cfg.days):
                if d in self._uuid_days:
                    continue
                n = self.cfg.calls_per_day
                for k in range(0, max(1, math.ceil(n / BLOCK))):
                    lo, hi = k * BLOCK, min(n, (k + 1) * BLOCK)
                    _, raw = self._uuid_bytes(d, k, hi - lo)
                    for j, u in enumerate(_uuids(raw).to_pylist()):
                        self._uuid_index[u] = (d, lo + j)
                self._uuid_days.add(d)
                hit = self._uuid_index.get(call_id)
                if hit is not None:
                    return hit
        return None


def day_window(start: date, end: date, tz: str) -> tuple[int, int]:
    """[start 00:00, end+1 00:00) in ``tz`` as epoch seconds: inclusive calendar days."""
    from zoneinfo import ZoneInfo

    z = ZoneInfo(tz)
    lo = datetime.combine(start, time(0), z).timestamp()
    hi = datetime.combine(end + timedelta(days=1), time(0), z).timestamp()
    return int(lo), int(hi)


def _check_safe_text() -> None:
    """Generated text goes into JSON and CSV unescaped: make sure no constant needs escaping."""
    consts = [*CAUSES, *(v[1] for v in HANGUP_CAUSES.values()), *(v[2] for v in HANGUP_CAUSES.values()),
              *(v[3] for v in HANGUP_CAUSES.values()), *_SOURCE, *_DISPO, *CODECS, *REGIONS, *CIRCLES,
              *CONTEXTS, *UA_INBOUND, *UA_TRUNK, *BRANDS, *FIELD_NAMES]  # fmt: skip
    bad = [c for c in consts if any(ch in c for ch in ',"\\\n\r')]
    if bad:
        raise AssertionError(f"constants that would need escaping: {bad}")


_check_safe_text()
