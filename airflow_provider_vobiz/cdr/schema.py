"""The CDR schema: the one place that knows the Vobiz CDR fields and their types.

Everything else (normalisation, the Parquet writer, quality, reports) asks this module. The API documents
43 fields (the public Vobiz CDR API documentation); ``account_id`` is one of them but is a partition key of
the lake, so it lives in the path and not inside the files (Spark and Athena reject a column that is both a
partition key and a data column). Fields the API adds later are kept as JSON text in ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

#: Bumped whenever the Parquet file schema changes in a way consumers must know about.
SCHEMA_VERSION = 1

TIMESTAMP = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 6)
#: Money has six decimal places in the lake; the API sends plain JSON numbers.
MONEY_SCALE = 6


@dataclass(frozen=True)
class Field:
    """One documented CDR field."""

    name: str
    type: pa.DataType
    nullable: bool
    description: str
    #: Documented as E.164 (quality checks and masking apply).
    phone: bool = False
    #: Largest value accepted, in UTF-8 bytes (text fields; see :data:`TEXT_LIMITS`). A record with a longer
    #: value is quarantined: no real CDR field is that long, so it is a fault, and stored it would bloat
    #: every reader's memory. Free text is allowed thousands of characters (unusual but legal API text, such
    #: as a long hangup cause, must reach the reports); identifiers and numbers get tight limits.
    max_bytes: int = 8 * 1024

    @property
    def arrow(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=True)


_S = pa.string()
_I = pa.int64()
_F = pa.float64()

#: Every documented field, in the API's order. ``nullable`` follows the documentation; the files keep every
#: column nullable so that a record missing a documented field is stored (and counted) rather than lost.
FIELDS: tuple[Field, ...] = (
    Field("id", _I, False, "Internal numeric identifier for the call."),
    Field("uuid", _S, False, "Globally unique identifier for the call.", max_bytes=64),
    Field(
        "account_id",
        _S,
        False,
        "Account that owns this call (partition key: stored in the path).",
        max_bytes=64,
    ),
    Field("call_direction", _S, False, "inbound or outbound."),
    Field("caller_id_name", _S, False, "Caller ID display name."),
    Field("caller_id_number", _S, False, "Originating phone number (E.164).", phone=True, max_bytes=32),
    Field(
        "destination_number",
        _S,
        False,
        "Destination phone number or destination identifier.",
        phone=True,
        max_bytes=64,
    ),
    Field("duration", _I, False, "Total call duration in seconds (ring + talk)."),
    Field("billsec", _I, False, "Billable seconds (talk time only)."),
    Field("ring_time", _I, False, "Seconds the call rang before answer or hangup."),
    Field("answer_time", TIMESTAMP, True, "When the call was answered; null if not answered."),
    Field("start_time", TIMESTAMP, False, "When the call was initiated (partitions are days of this)."),
    Field("end_time", TIMESTAMP, False, "When the call ended."),
    Field("progress_time", TIMESTAMP, False, "When the call entered the progress state."),
    Field("created_at", TIMESTAMP, False, "CDR record creation timestamp."),
    Field("updated_at", TIMESTAMP, False, "CDR record last-updated timestamp (dedupe keeps the latest)."),
    Field("cost", MONEY, False, "Per-leg cost in currency."),
    Field("total_cost", MONEY, False, "Total cost including streaming, in currency."),
    Field("streaming_cost", MONEY, False, "Cost of audio streaming for this call."),
    Field("currency", _S, False, "ISO currency code, e.g. INR.", max_bytes=8),
    Field("hangup_cause", _S, False, "High-level hangup reason, e.g. NORMAL_CLEARING."),
    Field("hangup_cause_code", _I, False, "Numeric hangup code (Vobiz's own, not Q.850)."),
    Field("hangup_cause_name", _S, False, "Human-readable hangup name."),
    Field("hangup_disposition", _S, False, "SIP hangup disposition, e.g. send_bye."),
    Field("hangup_source", _S, False, "Which party initiated the hangup (Caller, Callee, ...)."),
    Field("failure_code", _S, True, "Failure code if the call did not connect."),
    Field("failure_reason", _S, True, "Human-readable failure reason.", max_bytes=16 * 1024),
    Field("bridge_uuid", _S, True, "UUID of the call bridge."),
    Field("sip_call_id", _S, False, "SIP-level Call-ID header value."),
    Field("sip_user_agent", _S, False, "SIP User-Agent header value of the originating leg.", max_bytes=2048),
    Field("codec", _S, True, "Audio codec negotiated (PCMU, PCMA, opus)."),
    Field("mos", _F, False, "Mean Opinion Score, 1.0-5.0."),
    Field("jitter", _F, False, "Jitter in milliseconds."),
    Field("packet_loss", _F, False, "Packet loss percentage."),
    Field("network_addr", _S, False, "Network address of the call leg."),
    Field("carrier_ip", _S, True, "Carrier IP address."),
    Field("context", _S, False, "Internal call context, e.g. voice-api."),
    Field("region", _S, False, "Vobiz infrastructure region, e.g. ap-south-1."),
    Field("origination_region", _S, False, "Region the call originated from."),
    Field("campaign_id", _S, True, "Campaign ID if the call is part of a campaign."),
    Field("customer_endpoint", _S, True, "Customer endpoint identifier."),
    Field("trunk_id", _S, True, "SIP trunk ID used for this call."),
    Field("terminated_to", _S, True, "Termination target if forwarded."),
)

FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
#: Documented field names in the API's order (the export CSV header).
API_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)

#: The lake's Hive partition keys, in path order. Never stored inside the files.
PARTITION_KEYS: tuple[str, ...] = ("account_id", "call_date")

EXTRA_COLUMN = "extra"
EXTRA_FIELD = pa.field(EXTRA_COLUMN, _S, nullable=True)

TIMESTAMP_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.type == TIMESTAMP)
MONEY_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.type == MONEY)
INTEGER_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.type == _I)
FLOAT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.type == _F)
PHONE_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.phone)

#: Size limits of the text the lake stores, in UTF-8 bytes: each text field's ``max_bytes``, and ``extra``.
TEXT_LIMITS: dict[str, int] = {f.name: f.max_bytes for f in FIELDS if f.type == _S}
#: The JSON text of undocumented fields, all together.
EXTRA_MAX_BYTES = 64 * 1024
TEXT_LIMITS[EXTRA_COLUMN] = EXTRA_MAX_BYTES
#: One export CSV record (all its lines, when a quoted value spans them): far above the sum of the field
#: limits, far below the CSV reader's 4 MiB block (a longer one is quarantined before parsing, since the
#: reader cannot split it).
MAX_ROW_BYTES = 1024 * 1024
#: A ``start_time`` this far outside the padded query's dates cannot be a call the query asked for (the
#: API's date filter may be read in any timezone from UTC-12 to UTC+14, so one day is allowed either way).
START_TIME_SLACK_DAYS = 1
#: Share of a day's records that may be quarantined before its ingest fails (the lake's ``check_rejects``);
#: the setting ``max_reject_ratio`` overrides it.
DEFAULT_MAX_REJECT_RATIO = 0.01

#: Sort order of rows inside a partition: the same input always gives the same bytes.
SORT_KEYS: tuple[tuple[str, str], ...] = (("start_time", "ascending"), ("uuid", "ascending"))

#: The schema of the Parquet files: every documented field but the partition keys, then ``extra``.
FILE_SCHEMA: pa.Schema = pa.schema(
    [f.arrow for f in FIELDS if f.name not in PARTITION_KEYS] + [EXTRA_FIELD],
    metadata={b"vobiz.schema_version": str(SCHEMA_VERSION).encode()},
)

#: The documented hangup causes (the API documentation's table).
HANGUP_CAUSES: tuple[str, ...] = (
    "NORMAL_CLEARING",
    "USER_BUSY",
    "NO_ANSWER",
    "ORIGINATOR_CANCEL",
    "CALL_REJECTED",
    "REJECTED",
    "INVALID_NUMBER",
    "UNALLOCATED_NUMBER",
    "SERVICE_UNAVAILABLE",
    "SERVER_ERROR",
    "MEDIA_TIMEOUT",
    "PROTOCOL_ERROR",
    "NETWORK_OUT_OF_ORDER",
    "DESTINATION_OUT_OF_ORDER",
    "NORMAL_TEMPORARY_FAILURE",
    "SWITCH_CONGESTION",
    "UNKNOWN",
)

CALL_DIRECTIONS: tuple[str, ...] = ("inbound", "outbound")

#: E.164: a plus, a non-zero country digit, 7 to 14 more digits.
E164_PATTERN = r"^\+[1-9][0-9]{7,14}$"
