"""The CDR fields as the public API documentation lists them.

The simulator keeps its own copy on purpose and never imports the client side (``cdr``, ``hooks``, ``lake``):
a server built from the client's code would agree with the client's mistakes.
"""

from __future__ import annotations

from typing import NamedTuple


class ApiField(NamedTuple):
    name: str
    #: JSON type: "integer", "string", "number" or "timestamp" (an ISO 8601 string).
    type: str
    nullable: bool


#: Every documented CDR field, in the documentation's order (also the export CSV's column order).
FIELDS: tuple[ApiField, ...] = (
    ApiField("id", "integer", False),
    ApiField("uuid", "string", False),
    ApiField("account_id", "string", False),
    ApiField("call_direction", "string", False),
    ApiField("caller_id_name", "string", False),
    ApiField("caller_id_number", "string", False),
    ApiField("destination_number", "string", False),
    ApiField("duration", "integer", False),
    ApiField("billsec", "integer", False),
    ApiField("ring_time", "integer", False),
    ApiField("answer_time", "timestamp", True),
    ApiField("start_time", "timestamp", False),
    ApiField("end_time", "timestamp", False),
    ApiField("progress_time", "timestamp", False),
    ApiField("created_at", "timestamp", False),
    ApiField("updated_at", "timestamp", False),
    ApiField("cost", "number", False),
    ApiField("total_cost", "number", False),
    ApiField("streaming_cost", "number", False),
    ApiField("currency", "string", False),
    ApiField("hangup_cause", "string", False),
    ApiField("hangup_cause_code", "integer", False),
    ApiField("hangup_cause_name", "string", False),
    ApiField("hangup_disposition", "string", False),
    ApiField("hangup_source", "string", False),
    ApiField("failure_code", "string", True),
    ApiField("failure_reason", "string", True),
    ApiField("bridge_uuid", "string", True),
    ApiField("sip_call_id", "string", False),
    ApiField("sip_user_agent", "string", False),
    ApiField("codec", "string", True),
    ApiField("mos", "number", False),
    ApiField("jitter", "number", False),
    ApiField("packet_loss", "number", False),
    ApiField("network_addr", "string", False),
    ApiField("carrier_ip", "string", True),
    ApiField("context", "string", False),
    ApiField("region", "string", False),
    ApiField("origination_region", "string", False),
    ApiField("campaign_id", "string", True),
    ApiField("customer_endpoint", "string", True),
    ApiField("trunk_id", "string", True),
    ApiField("terminated_to", "string", True),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)

#: The documented hangup causes with what the simulator attaches to each: Vobiz's numeric code and
#: human-readable name, and the SIP failure code/reason used when the call did not connect.
HANGUP_CAUSES: dict[str, tuple[int, str, str, str]] = {
    "NORMAL_CLEARING": (4000, "Normal Hangup", "", ""),
    "USER_BUSY": (4010, "User Busy", "486", "Busy Here"),
    "NO_ANSWER": (4020, "No Answer", "480", "Temporarily Unavailable"),
    "ORIGINATOR_CANCEL": (4030, "Caller Cancelled", "487", "Request Terminated"),
    "CALL_REJECTED": (4040, "Call Rejected", "603", "Decline"),
    "REJECTED": (4041, "Rejected", "403", "Forbidden"),
    "INVALID_NUMBER": (4050, "Invalid Number", "484", "Address Incomplete"),
    "UNALLOCATED_NUMBER": (4051, "Unallocated Number", "404", "Not Found"),
    "SERVICE_UNAVAILABLE": (5030, "Service Unavailable", "503", "Service Unavailable"),
    "SERVER_ERROR": (5000, "Server Error", "500", "Server Internal Error"),
    "MEDIA_TIMEOUT": (5010, "Media Timeout", "408", "RTP Timeout"),
    "PROTOCOL_ERROR": (5020, "Protocol Error", "400", "Bad Request"),
    "NETWORK_OUT_OF_ORDER": (5040, "Network Out Of Order", "502", "Bad Gateway"),
    "DESTINATION_OUT_OF_ORDER": (5041, "Destination Out Of Order", "502", "Bad Gateway"),
    "NORMAL_TEMPORARY_FAILURE": (5031, "Temporary Failure", "503", "Service Unavailable"),
    "SWITCH_CONGESTION": (5032, "Switch Congestion", "503", "Service Unavailable"),
    "UNKNOWN": (9999, "Unknown", "500", "Unknown Error"),
}
