"""Rendering a block of a day's calls into API records: the text columns drawn from the block's own stream.

The draws from the block's random stream happen in a fixed order (uuids, bridge and SIP ids, call quality,
hangup side, network and names): a record's text is the same whichever query first rendered its block.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .block import Block
from .columns import cat, ip, phone, ts, uuids
from .config import SimulatorConfig
from .fields import FIELD_NAMES, HANGUP_CAUSES
from .generate import (
    ANS_DISPO,
    ANS_SRC,
    BRANDS,
    CAMPAIGN,
    CARRIER_PREFIX,
    CAUSES,
    CIRCLES,
    CODEC_P,
    CODECS,
    CONTEXTS,
    DISPOSITIONS,
    INBOUND,
    REGIONS,
    SOURCES,
    TRUNK,
    UA_INBOUND,
    UA_TRUNK,
    UNANS_DISPO,
    UNANS_SRC,
    Catalog,
    DayView,
    costs,
    rng,
)
from .malformed import HOSTILE_VALUES, MULTILINE_VALUES


def uuid_bytes(seed: int, d: int, k: int, n: int) -> tuple[np.random.Generator, np.ndarray]:
    """The block's random stream, and the raw bytes of its ``n`` uuids (its first draw)."""
    r = rng(seed, d, 2, k)
    return r, r.integers(0, 256, (n, 16), dtype=np.uint8)


def field_names(cfg: SimulatorConfig) -> list[str]:
    """The served fields in order: the documented ones, then the configured undocumented one."""
    return list(FIELD_NAMES) + ([cfg.extra_field] if cfg.extra_field else [])


def render_block(cfg: SimulatorConfig, catalog: Catalog, v: DayView, k: int, lo: int, hi: int) -> Block:
    """Rows ``lo:hi`` (block ``k``) of a day as seen in ``v``, as a :class:`Block` of served records."""
    c = v.core
    n = hi - lo
    s = slice(lo, hi)
    r, uuid_raw = uuid_bytes(cfg.seed, c.day_index, k, n)
    bridge_raw = r.integers(0, 256, (n, 16), dtype=np.uint8)
    sip_raw = r.integers(0, 256, (n, 16), dtype=np.uint8)
    answered = v.billsec[s] > 0
    cols = _call_columns(cfg, v, s)
    cols["uuid"] = uuids(uuid_raw)
    cols["bridge_uuid"] = uuids(bridge_raw, mask=~answered)
    cols["sip_call_id"] = uuids(sip_raw)
    cols.update(_quality_columns(r, answered, c.ring[s]))
    cols.update(_hangup_columns(r, answered, v.cause[s]))
    cols.update(_network_columns(r, catalog, c.kind[s], answered, c.caller[s], c.camp[s], c.trunk[s]))
    if cfg.extra_field:
        url = pc.binary_join_element_wise(
            f"https://media.vobiz.ai/v1/Account/{cfg.auth_id}/Recording/", cols["uuid"], ".mp3", ""
        )
        cols[cfg.extra_field] = pc.if_else(pa.array(answered), url, pa.scalar(None, pa.string()))
    names = field_names(cfg)
    table = pa.table([cols[x] for x in names], names=names)
    mal = {row - lo: kind for row, kind in c.malformed.items() if lo <= row < hi}
    overrides = {row - lo: HOSTILE_VALUES for row in c.hostile if lo <= row < hi}
    overrides.update((row - lo, MULTILINE_VALUES) for row in c.multiline if lo <= row < hi)
    return Block(table, mal, cfg.extra_field, cfg.malformed_field_bytes, overrides)


def _call_columns(cfg: SimulatorConfig, v: DayView, s: slice) -> dict[str, pa.Array]:
    """Who called whom, when, for how long, at what cost: straight from the day's core (no draws)."""
    c = v.core
    n = s.stop - s.start
    kind, start, ring, billsec = c.kind[s], c.start[s], c.ring[s], v.billsec[s]
    answered = billsec > 0
    cost, stream, total = costs(kind, billsec, c.streaming[s])
    created = c.created[s]
    return {
        "id": pa.array(c.ids[s]),
        "account_id": pc.take(pa.array([cfg.auth_id]), pa.array(np.zeros(n, np.int32))),
        "call_direction": cat(("outbound", "inbound"), (kind == INBOUND).astype(np.int8)),
        "caller_id_number": phone(c.caller[s]),
        "destination_number": phone(c.dest[s]),
        "duration": pa.array((ring + billsec).astype(np.int64)),
        "billsec": pa.array(billsec.astype(np.int64)),
        "ring_time": pa.array(ring.astype(np.int64)),
        "answer_time": ts(start + ring, mask=~answered),
        "start_time": ts(start),
        "end_time": ts(start + ring + billsec),
        "progress_time": ts(start + c.progress_off[s]),
        "created_at": ts(created),
        "updated_at": ts(np.where(v.updated[s], c.upd_at[s], created)),
        "cost": pa.array(cost),
        "total_cost": pa.array(total),
        "streaming_cost": pa.array(stream),
        "currency": pc.take(pa.array(["INR"]), pa.array(np.zeros(n, np.int32))),
    }


def _quality_columns(r: np.random.Generator, answered: np.ndarray, ring: np.ndarray) -> dict[str, pa.Array]:
    """Most answered calls sound good (MOS ~4.3), a tail does not; no media, no measurement."""
    n = len(answered)
    poor = r.random(n) < 0.08
    mos = np.where(poor, r.uniform(2.0, 3.8, n), np.clip(r.normal(4.31, 0.1, n), 3.8, 4.5))
    jitter = np.where(poor, r.uniform(20, 120, n), r.exponential(3.0, n))
    loss = np.where(poor, r.uniform(1, 15, n), np.minimum(r.exponential(0.15, n), 1.0))
    codec_idx = r.choice(len(CODECS), n, p=CODEC_P)
    codec_null = ~answered & ((ring == 0) | (r.random(n) < 0.4))
    return {
        "codec": cat(CODECS, codec_idx, mask=codec_null),
        "mos": pa.array(np.where(answered, np.round(mos, 2), 4.5)),
        "jitter": pa.array(np.where(answered, np.round(jitter, 1), 0.0)),
        "packet_loss": pa.array(np.where(answered, np.round(loss, 2), 0.0)),
    }


def _hangup_columns(r: np.random.Generator, answered: np.ndarray, cause: np.ndarray) -> dict[str, pa.Array]:
    """The cause as the API names it, and who hung up how."""
    src_u = r.random(len(answered)) < 0.45  # answered NORMAL_CLEARING: caller hangs up 45%
    src = np.where(answered, np.where(ANS_SRC[cause] >= 0, ANS_SRC[cause], np.where(src_u, 0, 1)),
                   UNANS_SRC[cause])  # fmt: skip
    dispo = np.where(answered, np.where(ANS_DISPO[cause] >= 0, ANS_DISPO[cause], np.where(src_u, 0, 1)),
                     UNANS_DISPO[cause])  # fmt: skip
    codes = np.array([HANGUP_CAUSES[x][0] for x in CAUSES], dtype=np.int64)
    return {
        "hangup_cause": cat(CAUSES, cause),
        "hangup_cause_code": pa.array(codes[cause]),
        "hangup_cause_name": cat([HANGUP_CAUSES[x][1] for x in CAUSES], cause),
        "hangup_disposition": cat(DISPOSITIONS, dispo),
        "hangup_source": cat(SOURCES, src),
        "failure_code": cat([HANGUP_CAUSES[x][2] for x in CAUSES], cause, mask=answered),
        "failure_reason": cat([HANGUP_CAUSES[x][3] for x in CAUSES], cause, mask=answered),
    }


def _network_columns(
    r: np.random.Generator,
    catalog: Catalog,
    kind: np.ndarray,
    answered: np.ndarray,
    caller: np.ndarray,
    camp: np.ndarray,
    trunk: np.ndarray,
) -> dict[str, pa.Array]:
    """Where the call ran (region, circle, media and carrier IPs, user agent) and the names it carried."""
    n = len(kind)
    inbound = kind == INBOUND
    region = (r.random(n) < 0.1).astype(np.int8)
    circle = np.where(inbound, r.integers(0, len(CIRCLES), n), np.where(region == 1, 5, 0))
    media = r.integers(0, len(catalog.media_ips), n)
    cprefix = np.array(CARRIER_PREFIX)[r.integers(0, len(CARRIER_PREFIX), n)]
    c3, c4 = r.integers(0, 256, n), r.integers(1, 255, n)
    carrier_null = (kind == TRUNK) | (r.random(n) < 0.3)
    ua_in, ua_tr = r.integers(0, len(UA_INBOUND), n), r.integers(0, len(UA_TRUNK), n)
    forwarded = inbound & answered & (r.random(n) < 0.06)
    fwd_to = catalog.customers[r.integers(0, len(catalog.customers), n)]
    name_unknown = r.random(n) < 0.15
    # caller_id_name: the brand for campaigns, the number's digits otherwise (or "Unknown" inbound).
    digits = pa.array(caller, pa.int64()).cast(pa.string())
    brand = cat(catalog.campaign_brands, np.maximum(camp, 0))
    cid_name = pc.if_else(pa.array(kind == CAMPAIGN), brand, digits)
    cid_name = pc.if_else(pa.array(inbound & name_unknown), pa.scalar("Unknown"), cid_name)
    ua = pc.if_else(
        pa.array(inbound),
        cat(UA_INBOUND, ua_in),
        pc.if_else(pa.array(kind == TRUNK), cat(UA_TRUNK, ua_tr), pa.scalar("Vobiz")),
    )
    return {
        "caller_id_name": cid_name,
        "sip_user_agent": ua,
        "network_addr": cat(catalog.media_ips, media),
        "carrier_ip": ip(cprefix[:, 0], cprefix[:, 1], c3, c4, mask=carrier_null),
        "context": cat(CONTEXTS, kind),
        "region": cat(REGIONS, region),
        "origination_region": cat(CIRCLES, circle),
        "campaign_id": cat(catalog.campaign_ids, np.maximum(camp, 0), mask=camp < 0),
        "customer_endpoint": cat(catalog.trunk_endpoints, np.maximum(trunk, 0), mask=trunk < 0),
        "trunk_id": cat(catalog.trunk_ids, np.maximum(trunk, 0), mask=trunk < 0),
        "terminated_to": phone(fwd_to, mask=~forwarded),
    }


def _check_safe_text() -> None:
    """Generated text goes into JSON and CSV unescaped: make sure no constant needs escaping."""
    consts = [*CAUSES, *(v[1] for v in HANGUP_CAUSES.values()), *(v[2] for v in HANGUP_CAUSES.values()),
              *(v[3] for v in HANGUP_CAUSES.values()), *SOURCES, *DISPOSITIONS, *CODECS, *REGIONS, *CIRCLES,
              *CONTEXTS, *UA_INBOUND, *UA_TRUNK, *BRANDS, *FIELD_NAMES]  # fmt: skip
    bad = [c for c in consts if any(ch in c for ch in ',"\\\n\r')]
    if bad:
        raise AssertionError(f"constants that would need escaping: {bad}")


_check_safe_text()
