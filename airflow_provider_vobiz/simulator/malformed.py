"""Records served wrong on purpose: hostile and multiline text (legal values that break naive readers), and
malformed records (``config.MALFORMED_KINDS``) in JSON and in CSV."""

from __future__ import annotations

import json
from typing import Any

import orjson

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


_PLACEHOLDER = "\x00malformed\x00"


def malformed_json(record: bytes, kind: str, field_bytes: int) -> bytes:
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


def parse_served(record: bytes) -> Any:
    try:
        return orjson.loads(record)
    except orjson.JSONDecodeError:  # NaN, or bytes that are not UTF-8: as a lenient client reads them
        return json.loads(record.decode("utf-8", "surrogateescape"))


def malformed_csv(line: bytes, names: list[str], kind: str, field_bytes: int) -> bytes:
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
