"""One call's diagnosis for people: its CDR fetched, explained by the rules, and masked for the page."""

from __future__ import annotations

import dataclasses
from typing import Any

from airflow_provider_vobiz.diagnosis.fetch import check_call_id, fetch_cdr
from airflow_provider_vobiz.diagnosis.rules import diagnose
from airflow_provider_vobiz.privacy import mask_value

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


def diagnose_call(call_id: str, vobiz_conn_id: str) -> dict[str, Any]:
    """``{"call_id", "call": {field: value}, "diagnosis": ...}``, masked for people.

    :raises DiagnosisError: with a message fit for the page (never the token or the raw numbers).
    """
    call_id = check_call_id(call_id)
    cdr = fetch_cdr(call_id, vobiz_conn_id)
    diagnosis = dataclasses.asdict(diagnose(cdr))
    call = {k: cdr.get(k) for k in CALL_FIELDS if k in cdr}
    return {"call_id": call_id, "call": mask_value(call), "diagnosis": mask_value(diagnosis)}
