"""The summary report for people (HTML, PDF): its notices, its facts at a glance, and its sections in order.

Phone numbers are masked to their last four digits; each section is built in :mod:`.present_traffic`,
:mod:`.present_conduct` or :mod:`.present_audit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_vobiz.cdr.window import FINAL, PROVISIONAL
from airflow_provider_vobiz.reports.render import Report
from airflow_provider_vobiz.reports.summary.cells import day_ranges
from airflow_provider_vobiz.reports.summary.config import REPORT_TITLE
from airflow_provider_vobiz.reports.summary.present_audit import (
    data_quality_section,
    inputs_section,
    method_section,
    versions_section,
)
from airflow_provider_vobiz.reports.summary.present_conduct import (
    calling_hours_section,
    cost_section,
    ucc_section,
)
from airflow_provider_vobiz.reports.summary.present_traffic import (
    direction_columns,
    hangup_section,
    overview_section,
    per_day_section,
    voice_quality_section,
)


def notices(doc: Mapping[str, Any]) -> list[str]:
    """What a reader must know before the figures: provisional, superseding, missing days, quality."""
    out = []
    status = doc.get("status") or FINAL
    rule = doc.get("status_rule") or {}
    if status == PROVISIONAL:
        out.append(
            f"PROVISIONAL: days of this period are still inside the ingest's re-pull window "
            f"({rule.get('repull_days', '?')} days), so late CDRs can still change them. The report is regenerated "
            f"when they do, and is final from {rule.get('final_from', '?')}."
        )
    if doc.get("supersedes"):
        last = doc["supersedes"][0]
        out.append(
            f"Version {doc.get('version')}: supersedes version {last['version']} of {last['generated_at']} "
            f"({last['reason']}). Earlier versions are listed under Versions."
        )
    if doc["missing_days"]:
        out.append(
            f"{len(doc['missing_days'])} of {doc['days_expected']} days have no partition in the lake "
            f"(missing: {day_ranges(doc['missing_days'])}); figures cover only the days present."
        )
    failed = [d for d, q in doc["quality"]["days"].items() if q["status"] == "failed"]
    if failed:
        out.append(f"Data quality failed on: {', '.join(failed)}.")
    pending = [d for d, q in doc["quality"]["days"].items() if q["status"] == "pending"]
    if pending:
        out.append(f"Data quality not yet validated on: {', '.join(pending)}.")
    return out


def meta(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The report's facts at a glance: status and version, period, coverage, inputs, quality, DAG run."""
    status = doc.get("status") or FINAL
    rule = doc.get("status_rule") or {}
    return [
        (
            "Status",
            f"{status.upper()}"
            + (f" (final from {rule.get('final_from')})" if status == PROVISIONAL else "")
            + f", version {doc.get('version', 1)}",
        ),
        ("Period kind", f"{doc['period_kind']} (IST days of start_time, timezone {doc['timezone']})"),
        ("Days present", f"{doc['days_present']} of {doc['days_expected']}"),
        ("Lake", doc.get("lake_uri") or "–"),
        (
            "Inputs",
            f"{len(doc['inputs'])} partition(s) of {doc['account_id']}; manifest and content hashes under Inputs",
        ),
        ("Data quality (worst day)", doc["quality"]["worst_status"]),
        ("Phone numbers", "last four digits only"),
        (
            "DAG run",
            f"{doc['dag_run']['dag_id']} / {doc['dag_run']['run_id']}" if doc.get("dag_run") else "–",
        ),
    ]


def summary_report(doc: Mapping[str, Any]) -> Report:
    """The human-readable report (phone numbers masked to their last four digits)."""
    columns = direction_columns(doc)
    present_days = [d for d in doc["by_day"] if d["present"]]
    labels = [d["call_date"][5:] for d in present_days]
    return Report(
        title=REPORT_TITLE,
        account_id=doc["account_id"],
        period_label=doc["period"],
        generated_at=doc["generated_at"],
        provider_version=doc["provider_version"],
        notices=notices(doc),
        meta=meta(doc),
        sections=[
            overview_section(doc, columns),
            per_day_section(doc, present_days, labels),
            voice_quality_section(doc, columns, present_days, labels),
            hangup_section(doc, present_days, labels),
            calling_hours_section(doc),
            ucc_section(doc),
            cost_section(doc),
            data_quality_section(doc),
            inputs_section(doc),
            versions_section(doc),
            method_section(doc),
        ],
    )
