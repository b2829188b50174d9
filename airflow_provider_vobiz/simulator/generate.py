"""The day's calls: seeded, vectorised generation of the numeric columns, and what the clock lets a client see.

How the data is built (all of it deterministic in the config):

* Calls are generated per calendar day in IST. A day's start times are drawn at once from a diurnal curve
  (night calls included, campaign calls only 09:00-21:00 IST as TRAI requires), plus ~0.5% of the calls
  within 5 s either side of 00:00 IST and ~0.5% either side of 00:00 UTC, and sorted.
* The day is cut into blocks of ``BLOCK`` calls. Each block's "core" columns (direction, numbers, timing,
  billing, hangup cause, late/updated knobs) come from a random stream of its own, so a day's core can be
  built without rendering text, and a block's text (uuids, codecs, IPs, ...) can be rendered on its own
  (:mod:`.render`).
* Knob draws (late, updated) use their own stream: turning a knob on changes nothing else.

Ids are ``ID_BASE + day_index * calls_per_day + position``, so id order is start_time order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import SimulatorConfig
from .fields import HANGUP_CAUSES

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
SOURCES = ("Caller", "Callee", "Carrier", "Vobiz")
DISPOSITIONS = ("send_bye", "recv_bye", "send_cancel", "recv_cancel", "send_refuse", "recv_refuse")
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


def rng(*key: int) -> np.random.Generator:
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
        r = rng(cfg.seed, 999)
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
        r = rng(cfg.seed, d, 0)
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
        r = rng(cfg.seed, d, 1, k)
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
        kr = rng(cfg.seed, d, 4, k)  # knobs: their own stream, so turning one on changes nothing else
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
        rows = rng(cfg.seed, d, 3).choice(n, size=min(n, cfg.malformed_records), replace=False)
        kinds = cfg.malformed_kinds
        return {int(row): kinds[j % len(kinds)] for j, row in enumerate(sorted(rows))}

    @staticmethod
    def _pick(count: int, cfg: SimulatorConfig, d: int, n: int, stream: int) -> frozenset[int]:
        """``count`` rows of the day, drawn from their own random stream."""
        if not count or not n:
            return frozenset()
        rows = rng(cfg.seed, d, stream).choice(n, size=min(n, count), replace=False)
        return frozenset(int(r) for r in rows)


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
