"""What a CDR's ending means: who ended it, why, and what to check next (the diagnosis rules).

The API documentation's diagnosis guide ("Diagnose a hangup_cause")
asks for: what it means, who hung up (``hangup_source``), the likely root cause (from the code, failure
fields, codec and quality figures), what to check next, the related fields to inspect, and a quality flag
kept apart from the cause when MOS < 3.5, jitter > 30 ms or packet loss > 1%. This module answers it from
a fixed rule table: deterministic, offline, no AI service. It reads a CDR's fields and knows nothing about
how the CDR was fetched (:mod:`airflow_provider_vobiz.diagnosis.fetch`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MOS_POOR = 3.5
JITTER_HIGH_MS = 30.0
PACKET_LOSS_HIGH_PCT = 1.0


@dataclass(frozen=True)
class _Rule:
    meaning: str
    causes: tuple[str, ...]
    checks: tuple[str, ...]
    fields: tuple[str, ...] = ()


_DLT = "On outbound campaigns, confirm the sender, header and voice template are registered on DLT (TCCCPR 2018)."
_DND = "Scrub the destination list against DND/NCPR preferences (1909) before dialling."
_WHITELIST = (
    "Confirm the carrier has whitelisted your trunk's signalling and media IPs (carrier_ip, network_addr)."
)
_FIREWALL = "Open the RTP port range on firewalls/NAT and check SIP ALG is disabled."
_NUMBER = "Validate the number in E.164 (+91 and 10 digits for Indian mobiles) before dialling."

RULES: dict[str, _Rule] = {
    "NORMAL_CLEARING": _Rule(
        "One of the parties hung up normally.",
        ("A normal end of call; not a failure.",),
        (
            "Nothing to fix unless billsec is unexpectedly short (see UCC short-call share) or quality is flagged.",
        ),
        ("billsec", "duration", "hangup_source", "hangup_disposition"),
    ),
    "USER_BUSY": _Rule(
        "The called party was busy (already on a call, or declined).",
        ("The callee's line was engaged or the callee pressed decline.",),
        (
            "Retry later with back-off rather than immediately.",
            "Check the calling time is within permitted hours.",
            _DND,
        ),
        ("hangup_source", "ring_time", "destination_number"),
    ),
    "NO_ANSWER": _Rule(
        "The called party did not answer within the timeout.",
        ("The callee did not pick up; ring timeout reached.",),
        (
            "Compare ring_time with your dial timeout (too short a timeout inflates NO_ANSWER).",
            "Call within permitted hours (10:00–21:00 IST for promotional traffic).",
            _DND,
        ),
        ("ring_time", "duration", "start_time"),
    ),
    "ORIGINATOR_CANCEL": _Rule(
        "The caller cancelled the call before it was answered.",
        ("The calling side (agent, dialler or IVR) hung up while it was still ringing.",),
        (
            "Check the dialler's ring timeout and abandonment settings.",
            "A high share with ring_time near 0 suggests the dialler cancels too early.",
        ),
        ("ring_time", "hangup_source", "sip_user_agent"),
    ),
    "CALL_REJECTED": _Rule(
        "The destination explicitly rejected the call.",
        ("The callee or its network refused the call (often spam-blocking or a DND preference).",),
        (
            _DLT,
            _DND,
            "Check the CLI is not reported as spam and uses the right series (140xx / 1600 / 1601).",
        ),
        ("caller_id_number", "failure_code", "failure_reason", "campaign_id"),
    ),
    "REJECTED": _Rule(
        "General rejection: the SIP endpoint refused the INVITE.",
        ("The far end refused the INVITE (policy, authentication or CLI screening).",),
        (_DLT, _WHITELIST, "Check the CLI presented is one the carrier allows on this trunk."),
        ("caller_id_number", "trunk_id", "carrier_ip", "failure_code", "failure_reason"),
    ),
    "INVALID_NUMBER": _Rule(
        "The dialled number's format is invalid.",
        ("The destination is not a well-formed number.",),
        (_NUMBER, "Check number normalisation in the dialler (leading 0, missing country code)."),
        ("destination_number",),
    ),
    "UNALLOCATED_NUMBER": _Rule(
        "The number is well formed but not allocated to any subscriber.",
        ("A disconnected, ported-out or mistyped number.",),
        ("Remove the number from the list (repeated attempts look like list abuse).", _NUMBER),
        ("destination_number", "campaign_id"),
    ),
    "SERVICE_UNAVAILABLE": _Rule(
        "The destination service was temporarily unavailable (SIP 503).",
        ("The carrier or destination could not take the call at that moment.",),
        ("Retry with back-off; if persistent, check the trunk's status with the carrier.", _WHITELIST),
        ("trunk_id", "carrier_ip", "region", "failure_code"),
    ),
    "SERVER_ERROR": _Rule(
        "An internal server error occurred during call setup.",
        ("A platform-side fault while setting up the call.",),
        ("Check the platform status page and retry; open a ticket with sip_call_id if it persists.",),
        ("sip_call_id", "region", "failure_code", "failure_reason"),
    ),
    "MEDIA_TIMEOUT": _Rule(
        "No RTP media packets were received: likely a firewall or network problem.",
        ("Media stopped flowing (NAT/firewall, one-way audio, a dead network path).",),
        (_FIREWALL, _WHITELIST, "Compare with jitter and packet_loss of the same call."),
        ("codec", "mos", "jitter", "packet_loss", "network_addr", "carrier_ip"),
    ),
    "PROTOCOL_ERROR": _Rule(
        "A SIP protocol violation or malformed message.",
        ("Incompatible SIP behaviour between the endpoints (headers, SDP, codecs).",),
        (
            "Capture SIP signalling (sip_call_id) and check SDP/codec negotiation.",
            "Check the user agent's SIP settings.",
        ),
        ("sip_user_agent", "sip_call_id", "codec"),
    ),
    "NETWORK_OUT_OF_ORDER": _Rule(
        "A severe network failure prevented routing.",
        ("The route to the destination network was down.",),
        ("Retry later; if many calls to one carrier fail, escalate to the carrier.", _WHITELIST),
        ("carrier_ip", "trunk_id", "region", "origination_region"),
    ),
    "DESTINATION_OUT_OF_ORDER": _Rule(
        "The destination endpoint cannot accept the call.",
        ("The callee's device or PBX is unreachable (switched off, out of coverage, PBX down).",),
        ("Retry later; for your own endpoints check registration (customer_endpoint).",),
        ("destination_number", "customer_endpoint", "terminated_to"),
    ),
    "NORMAL_TEMPORARY_FAILURE": _Rule(
        "A generic temporary failure; retrying may succeed.",
        ("A transient fault somewhere on the path.",),
        ("Retry with back-off; a sustained rise points at a carrier or trunk problem.",),
        ("trunk_id", "carrier_ip", "failure_code", "failure_reason"),
    ),
    "SWITCH_CONGESTION": _Rule(
        "The SIP switch was at capacity.",
        ("Too many simultaneous calls for the switch or the trunk's channel limit.",),
        ("Lower the dialler's concurrency / calls per second, or raise the trunk's channel limit.",),
        ("trunk_id", "region", "start_time"),
    ),
    "UNKNOWN": _Rule(
        "An error not mapped to a standard cause.",
        ("Not determinable from the cause alone.",),
        ("Inspect failure_code and failure_reason; open a ticket with sip_call_id.",),
        ("failure_code", "failure_reason", "sip_call_id", "hangup_cause_code"),
    ),
}

_SOURCE_WORDS = {
    "caller": "the caller (originating side)",
    "callee": "the callee (destination side)",
    "carrier": "the carrier network",
    "system": "the Vobiz platform",
}


@dataclass
class Diagnosis:
    hangup_cause: str
    known_cause: bool
    meaning: str
    who_hung_up: str
    likely_root_cause: list[str]
    next_checks: list[str]
    related_fields: list[str]
    quality_flag: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_text(self) -> str:
        lines = [
            f"Hangup cause: {self.hangup_cause}" + ("" if self.known_cause else " (not a documented cause)"),
            f"What it means: {self.meaning}",
            f"Who hung up: {self.who_hung_up}",
            "Likely root cause:",
            *(f"  - {c}" for c in self.likely_root_cause),
            "What to check next:",
            *(f"  - {c}" for c in self.next_checks),
            f"Related fields: {', '.join(self.related_fields)}",
        ]
        if self.quality_flag:
            lines.append("Quality issue (separate from the hangup cause):")
            lines.extend(f"  - {r}" for r in self.quality_flag["reasons"])
        else:
            lines.append(
                "Quality: no issue flagged" + ("" if self.evidence.get("quality_known") else " (no figures)")
            )
        return "\n".join(lines)


def _float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def quality_flag(mos: Any, jitter: Any, packet_loss: Any) -> dict[str, Any] | None:
    """A quality issue when MOS < 3.5, jitter > 30 ms or packet loss > 1% (None if none)."""
    reasons = []
    m, j, p = _float(mos), _float(jitter), _float(packet_loss)
    if m is not None and 0 < m < MOS_POOR:
        reasons.append(f"MOS {m:g} < {MOS_POOR} (many users dissatisfied, ITU-T G.107)")
    if j is not None and j > JITTER_HIGH_MS:
        reasons.append(f"jitter {j:g} ms > {JITTER_HIGH_MS:g} ms")
    if p is not None and p > PACKET_LOSS_HIGH_PCT:
        reasons.append(f"packet loss {p:g}% > {PACKET_LOSS_HIGH_PCT:g}%")
    if not reasons:
        return None
    return {
        "reasons": reasons,
        "checks": [
            "Check the network path between your endpoint and the Vobiz region (jitter buffers, bandwidth, Wi-Fi).",
            "Prefer a wideband/robust codec (opus) where both sides support it; avoid transcoding.",
            _FIREWALL,
        ],
    }


def _record(
    cdr: Mapping[str, Any] | None,
    hangup_cause: str | None,
    hangup_cause_code: int | str | None,
    failure_reason: str | None,
) -> dict[str, Any]:
    """The CDR's fields, with the values given on their own taking precedence."""
    rec: dict[str, Any] = dict(cdr or {})
    if hangup_cause is not None:
        rec["hangup_cause"] = hangup_cause
    if hangup_cause_code is not None:
        rec["hangup_cause_code"] = hangup_cause_code
    if failure_reason is not None:
        rec["failure_reason"] = failure_reason
    return rec


def _meaning(cause: str, rule: _Rule, known: bool) -> str:
    if known:
        return rule.meaning
    unknown = RULES["UNKNOWN"].meaning
    return f"{cause} is not in the documented hangup_cause table; {unknown[0].lower()}{unknown[1:]}"


def _who_hung_up(source: Any) -> str:
    if not source:
        return "not recorded (no hangup_source)"
    who = _SOURCE_WORDS.get(str(source).strip().lower(), str(source))
    return f"{source}: {who}" if who != str(source) else str(source)


def _failure_fields(rec: Mapping[str, Any], causes: list[str], checks: list[str], evidence: dict) -> None:
    """What the platform's own code and failure fields add to the causes and the checks."""
    code = rec.get("hangup_cause_code")
    if code not in (None, ""):
        evidence["hangup_cause_code"] = code
        causes.append(
            f"hangup_cause_code {code} is Vobiz's own code (not Q.850); quote it with sip_call_id to support."
        )
    fcode, freason = rec.get("failure_code"), rec.get("failure_reason")
    if not (fcode or freason):
        return
    evidence.update({"failure_code": fcode, "failure_reason": freason})
    causes.insert(
        0, f"Failure reported by the platform: {' – '.join(str(x) for x in (fcode, freason) if x)}."
    )
    text = f"{fcode or ''} {freason or ''}".lower()
    if any(w in text for w in ("dlt", "template", "header", "scrub")):
        checks.insert(0, _DLT)
    if any(w in text for w in ("dnd", "ncpr", "preference")):
        checks.insert(0, _DND)
    if any(w in text for w in ("whitelist", "ip", "acl", "forbidden", "403")):
        checks.insert(0, _WHITELIST)


def _answer_supervision(cause: str, rec: Mapping[str, Any], causes: list[str]) -> None:
    """A normally cleared call whose billing figures look unanswered or falsely answered."""
    billsec, duration, ring = rec.get("billsec"), rec.get("duration"), rec.get("ring_time")
    if cause != "NORMAL_CLEARING" or billsec is None:
        return
    try:
        b, d = int(billsec), int(duration) if duration is not None else None
        if b == 0:
            causes.insert(
                0, "Cleared normally without being answered (billsec 0): check for a silent rejection."
            )
        elif d is not None and b == d:
            causes.append("billsec equals duration: possible false answer supervision (no ringing billed).")
        elif ring is not None and int(ring) == 0:
            causes.append("ring_time 0 on an answered call: possible false answer supervision.")
    except (TypeError, ValueError):
        pass


def diagnose(
    cdr: Mapping[str, Any] | None = None,
    *,
    hangup_cause: str | None = None,
    hangup_cause_code: int | str | None = None,
    failure_reason: str | None = None,
) -> Diagnosis:
    """Diagnose one CDR (a dict as the API returns it) or a bare ``hangup_cause`` (+ optional code/reason).

    :raises ValueError: when neither a CDR nor a hangup_cause is given.
    """
    rec = _record(cdr, hangup_cause, hangup_cause_code, failure_reason)
    cause = str(rec.get("hangup_cause") or "").strip().upper()
    if not cause:
        raise ValueError("diagnose needs a CDR with hangup_cause, or a hangup_cause value such as USER_BUSY")
    known = cause in RULES
    rule = RULES.get(cause) or RULES["UNKNOWN"]
    causes, checks, fields = list(rule.causes), list(rule.checks), list(rule.fields)
    evidence: dict[str, Any] = {}
    _failure_fields(rec, causes, checks, evidence)
    _answer_supervision(cause, rec, causes)
    codec = rec.get("codec")
    if codec:
        evidence["codec"] = codec
    flag = quality_flag(rec.get("mos"), rec.get("jitter"), rec.get("packet_loss"))
    evidence["quality_known"] = any(rec.get(k) is not None for k in ("mos", "jitter", "packet_loss"))
    if flag and codec:
        flag["reasons"].append(f"codec {codec}")
    for f in ("mos", "jitter", "packet_loss", "codec", "hangup_source", "hangup_cause_code"):
        if f not in fields and (f in rec or f in ("hangup_source",)):
            fields.append(f)
    return Diagnosis(
        hangup_cause=cause,
        known_cause=known,
        meaning=_meaning(cause, rule, known),
        who_hung_up=_who_hung_up(rec.get("hangup_source")),
        likely_root_cause=causes,
        next_checks=list(dict.fromkeys(checks)),  # the order kept, each check once
        related_fields=fields,
        quality_flag=flag,
        evidence=evidence,
    )


def diagnosis_json(d: Diagnosis) -> str:
    return json.dumps(d.as_dict(), indent=2, sort_keys=True, default=str)
