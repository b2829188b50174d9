"""Diagnose one call for an officer answering a single complaint.

The call's CDR is fetched from the Vobiz API through the ``vobiz`` connection (``VobizHook.get_cdr``) and
explained by the summary report's deterministic hangup diagnosis (``reports.diagnose``). What reaches the
page is masked: phone numbers show their last four digits only, and no connection field is ever included.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_vobiz.cdr.masking import mask_text, mask_value

#: A Vobiz call id is a UUID; accept the id characters only, so nothing else reaches the API's URL.
_CALL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

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


def _diagnose_fn():
    try:
        from airflow_provider_vobiz.reports import diagnose as module
    except ImportError:
        return None
    return getattr(module, "diagnose", None) or getattr(module, "diagnose_call", None)


#: An officer waits for the page: a few quick retries, not the ingest's five-minute budget.
PAGE_TIMEOUT_SECONDS = 10.0
PAGE_MAX_RETRIES = 2
PAGE_RETRY_BUDGET_SECONDS = 15.0


def fetch_cdr(call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
    """The call's CDR from the Vobiz API, or :class:`DiagnosisError` with a message fit for the page."""
    from airflow_provider_vobiz.hooks.exceptions import (
        VobizApiError,
        VobizAuthError,
        VobizNotFoundError,
    )
    from airflow_provider_vobiz.hooks.vobiz import VobizHook

    hook = VobizHook(
        vobiz_conn_id=vobiz_conn_id,
        timeout=PAGE_TIMEOUT_SECONDS,
        max_retries=PAGE_MAX_RETRIES,
        retry_budget_seconds=PAGE_RETRY_BUDGET_SECONDS,
    )
    try:
        cdr = hook.get_cdr(call_id)
    except VobizNotFoundError:
        raise DiagnosisError(f"The Vobiz API has no call with id {call_id}.") from None
    except VobizAuthError as err:
        raise DiagnosisError(
            f"The Vobiz API refused the credentials of connection {vobiz_conn_id!r} (HTTP {err.status})."
        ) from None
    except VobizApiError as err:
        # The hook's messages name the endpoint, status and request id and never the token.
        raise DiagnosisError(mask_text(str(err))) from None
    except Exception as err:
        if "isn't defined" in str(err) or type(err).__name__ == "AirflowNotFoundException":
            raise DiagnosisError(f"The Airflow connection {vobiz_conn_id!r} is not configured.") from None
        if isinstance(err, ValueError):  # the hook's checks of the connection (base URL, login, ...)
            raise DiagnosisError(
                f"Connection {vobiz_conn_id!r} is not usable: {mask_text(str(err))}"
            ) from None
        raise DiagnosisError(
            f"The Vobiz API could not be asked about call {call_id} ({type(err).__name__})."
        ) from None
    if not isinstance(cdr, dict) or not cdr:
        raise DiagnosisError(f"The Vobiz API returned no record for call {call_id}.")
    return cdr


def diagnose_call(call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
    """``{"call_id", "call": {field: value}, "diagnosis": ...}``, masked for people.

    :raises DiagnosisError: with a message fit for the page (never the token or the raw numbers).
    """
    call_id = check_call_id(call_id)
    fn = _diagnose_fn()
    if fn is None:
        raise DiagnosisError("The hangup diagnosis is not installed in this deployment.")
    cdr = fetch_cdr(call_id, vobiz_conn_id)
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
