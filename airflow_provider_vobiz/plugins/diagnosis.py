"""Diagnose one call for an officer answering a single complaint.

The call's CDR is fetched from the Vobiz API through the ``vobiz`` connection (``VobizHook.get_cdr``) and
explained by the summary report's deterministic hangup diagnosis (``reports.diagnose``). What reaches the
page is masked: phone numbers show their last four digits only, and no connection field is ever included.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_vobiz.reports.privacy import mask_number

#: A Vobiz call id is a UUID; accept the id characters only, so nothing else reaches the API's URL.
_CALL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: Anything that looks like a phone number, inside any string the page shows.
_NUMBER_RE = re.compile(r"\+?\d[\d\s-]{6,}\d")
_NUMBER_FIELDS = ("caller_id_number", "destination_number", "caller_id_name", "terminated_to")

#: The CDR fields shown next to the diagnosis, in this order.
CALL_FIELDS = (
    "uuid",
    "call_direction",
    "caller_id_number",
    "destination_number",
    "start_time",
    "answer_time",
    "end_time",
    "duration",
    "billsec",
    "ring_time",
    "hangup_cause",
    "hangup_cause_code",
    "hangup_cause_name",
    "hangup_source",
    "hangup_disposition",
    "failure_code",
    "failure_reason",
    "codec",
    "mos",
    "jitter",
    "packet_loss",
    "region",
)


class DiagnosisError(RuntimeError):
    """The call could not be diagnosed; the message is safe to show."""


def check_call_id(call_id: str) -> str:
    call_id = (call_id or "").strip()
    if not _CALL_ID_RE.match(call_id):
        raise DiagnosisError("A call id is 1-64 letters, digits, '-' or '_' (a UUID, as in the call logs).")
    return call_id


def mask_text(text: str) -> str:
    """Mask every number-like run of digits in free text."""
    return _NUMBER_RE.sub(lambda m: mask_number(m.group(0)), text)


def mask_value(value: Any, key: str = "") -> Any:
    """Mask phone numbers anywhere in a JSON-like value."""
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v, key) for v in value]
    if isinstance(value, str):
        if key in _NUMBER_FIELDS:
            return mask_number(value)
        return mask_text(value)
    return value


def _diagnose_fn():
    try:
        from airflow_provider_vobiz.reports import diagnose as module
    except ImportError:
        return None
    return getattr(module, "diagnose", None) or getattr(module, "diagnose_call", None)


def diagnose_call(call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
    """``{"call_id", "call": {field: value}, "diagnosis": ...}``, masked for people.

    :raises DiagnosisError: with a message fit for the page (never the token or the raw numbers).
    """
    call_id = check_call_id(call_id)
    try:
        from airflow_provider_vobiz.hooks.vobiz import VobizHook

        cdr = VobizHook(vobiz_conn_id=vobiz_conn_id).get_cdr(call_id)
    except DiagnosisError:
        raise
    except Exception as err:
        raise DiagnosisError(_describe(err, call_id, vobiz_conn_id)) from None
    if isinstance(cdr, dict) and isinstance(cdr.get("data"), dict):  # an enveloped single record
        cdr = cdr["data"]
    if not isinstance(cdr, dict) or not cdr:
        raise DiagnosisError(f"The Vobiz API returned no record for call {call_id}.")
    fn = _diagnose_fn()
    if fn is None:
        raise DiagnosisError("The hangup diagnosis is not installed in this deployment.")
    diagnosis = fn(cdr)
    call = {k: cdr.get(k) for k in CALL_FIELDS if k in cdr}
    return {"call_id": call_id, "call": mask_value(call), "diagnosis": mask_value(_plain(diagnosis))}


def _plain(value: Any) -> Any:
    """A dataclass or object diagnosis as plain data."""
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return value


def _describe(err: Exception, call_id: str, vobiz_conn_id: str) -> str:
    """A safe, specific message: what failed, never the connection's secrets."""
    name = type(err).__name__
    status = getattr(getattr(err, "response", None), "status_code", None) or getattr(err, "status_code", None)
    if "NotFound" in name and "conn" in str(err).lower():
        return f"The Airflow connection {vobiz_conn_id!r} is not configured."
    if status == 404 or "404" in str(err) or "not found" in str(err).lower():
        return f"The Vobiz API has no call with id {call_id}."
    if status in (401, 403):
        return f"The Vobiz API refused the credentials of connection {vobiz_conn_id!r} ({status})."
    detail = f" (HTTP {status})" if status else ""
    return f"The Vobiz API could not be reached for call {call_id}: {name}{detail}."
