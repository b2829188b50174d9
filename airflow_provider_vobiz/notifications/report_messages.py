"""What a report delivery says: the e-mail of a published summary or retention report, and what makes two
report documents the same report (so a retry is not delivered twice and a restated one says what changed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_vobiz.notifications.notice import (
    Attachment,
    Notice,
    digest,
    fmt_inr,
    fmt_int,
    fmt_num,
    fmt_pct,
    list_days,
)

#: Report keys that differ between two runs of the same report (or record a supersession) and so must not
#: make a retry look like a new report.
VOLATILE_KEYS = frozenset(
    {
        "generated_at",
        "dag_run",
        "inventory_seconds",
        "seconds",
        "enforcement",
        "supersedes",
        "superseded",
        "previous_version",
        "replaces",
    }
)
#: Keys under which a report may name the earlier version it replaces (path, hash, why).
SUPERSESSION_KEYS = ("supersedes", "superseded", "previous_version", "replaces")


def report_fingerprint(doc: Mapping[str, Any]) -> str:
    """What makes two report documents the same report: everything but :data:`VOLATILE_KEYS`, so a task
    retried on the same inputs gives the same fingerprint and a restated day gives a new one."""

    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return digest(strip(doc))


def report_status(doc: Mapping[str, Any]) -> str | None:
    """``provisional`` or ``final`` when the report says so."""
    status = doc.get("status")
    return str(status) if status in ("provisional", "final") else None


def supersession(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The earlier version this report replaces, as the report states it: ``{path, sha256, why}``."""
    for key in SUPERSESSION_KEYS:
        value = doc.get(key)
        if isinstance(value, list):  # the summary lists earlier versions newest first
            value = value[0] if value else None
        if isinstance(value, Mapping) and value:
            return {
                "path": value.get("path") or value.get("key") or value.get("uri"),
                "sha256": value.get("sha256") or value.get("hash") or value.get("content_sha256"),
                "why": value.get("why") or value.get("reason"),
                "generated_at": value.get("generated_at"),
            }
    return None


def _input_hashes(doc: Mapping[str, Any]) -> dict[str, str]:
    inputs = doc.get("inputs")
    if isinstance(inputs, list):
        return {
            str(i.get("call_date")): str(i.get("content_sha256")) for i in inputs if isinstance(i, Mapping)
        }
    return {}


def why_replaced(doc: Mapping[str, Any], previous: Mapping[str, Any]) -> str:
    """Why this report differs from the one delivered before (from the marker of that delivery)."""
    reasons = []
    if previous.get("status") and previous.get("status") != report_status(doc):
        reasons.append(f"status {previous['status']} → {report_status(doc) or 'unstated'}")
    old, new = previous.get("inputs") or {}, _input_hashes(doc)
    changed = sorted(d for d in set(old) & set(new) if old[d] != new[d])
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    if changed:
        reasons.append(f"restated day(s): {list_days(changed)}")
    if added:
        reasons.append(f"day(s) now present: {list_days(added)}")
    if removed:
        reasons.append(f"day(s) no longer present: {list_days(removed)}")
    return "; ".join(reasons) or "the report's figures changed"


def summary_facts(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    t = doc.get("totals") or {}
    return [
        ("Calls", fmt_int(t.get("calls"))),
        ("Answered", fmt_int(t.get("answered"))),
        ("Minutes of use", fmt_num(t.get("mou"))),
        ("ASR", fmt_pct(t.get("asr"))),
        ("NER", fmt_pct(t.get("ner"))),
        ("ACD (mean, s)", fmt_num(t.get("acd_mean"), 1)),
        ("MOS (mean)", fmt_num(t.get("mos_mean"))),
        ("Total cost", fmt_inr(t.get("total_cost"))),
        ("Days present", f"{fmt_int(doc.get('days_present'))} of {fmt_int(doc.get('days_expected'))}"),
        ("Data quality (worst day)", str((doc.get("quality") or {}).get("worst_status", "–"))),
    ]


def retention_facts(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    t = doc.get("totals") or {}
    w = doc.get("window") or {}
    return [
        ("Window", f"{w.get('start')} to {w.get('end')} ({fmt_int(w.get('days'))} days)"),
        ("Verified days", f"{fmt_int(t.get('verified_days'))} of {fmt_int(t.get('expected_days'))}"),
        ("Coverage", fmt_pct(t.get("coverage"))),
        ("Missing days", fmt_int(len(t.get("missing_days") or []))),
        ("Gaps", fmt_int(len(t.get("gaps") or []))),
        ("Checksum mismatches", fmt_int(len(t.get("checksum_mismatch_days") or []))),
        ("Failed quality days", fmt_int(len(t.get("failed_quality_days") or []))),
        ("Expiring within 30 days", fmt_int(len(t.get("expiring_within_30_days") or []))),
        ("Days under Object Lock", fmt_int(t.get("locked_days"))),
    ]


REPORT_TITLES = {"summary": "TRAI summary report", "retention": "TRAI retention report"}


def report_notice(
    kind: str,
    doc: Mapping[str, Any],
    *,
    pdf: bytes | None,
    max_attachment_bytes: int,
    report_link: str,
    run_link: str | None,
    previous: Mapping[str, Any] | None = None,
) -> Notice:
    """The e-mail that delivers a published report.

    :param kind: ``summary`` or ``retention``.
    :param doc: the report's JSON, as published in the lake.
    :param pdf: the published PDF's bytes (None when the report has no PDF).
    :param max_attachment_bytes: a larger PDF is linked, not attached.
    :param report_link: where the report is on the Compliance reports page.
    :param run_link: the Airflow run that published it, if known.
    :param previous: the marker of the last delivery of this report, if one was delivered before.
    """
    account = str(doc["account_id"])
    period = str(doc["period"] if kind == "summary" else doc["as_of"])
    status = report_status(doc)
    title = REPORT_TITLES[kind]
    label = "period" if kind == "summary" else "as of"
    replaced = _replaced(doc, previous)
    subject = f"[Vobiz] {title}, {account}, {label} {period}"
    if status:
        subject += f" ({status})"
    if replaced:
        subject += ": replaces an earlier version"
    facts = [("Account", account), ("Period" if kind == "summary" else "As of", period)]
    facts.append(("Status", status or "not stated"))
    facts += summary_facts(doc) if kind == "summary" else retention_facts(doc)
    facts.append(("Generated at", str(doc.get("generated_at", "–"))))
    attachment, pdf_note = _pdf(f"trai_{kind}_{account}_{period}.pdf", pdf, max_attachment_bytes)
    links = [("Compliance reports page: this report", report_link)]
    if run_link:
        links.append(("The Airflow run", run_link))
    fingerprint = report_fingerprint(doc)
    return Notice(
        audience="report",
        account_id=account,
        topic=f"trai_{kind}/{'period' if kind == 'summary' else 'as_of'}={period}",
        subject=subject,
        intro=f"The {title} of account {account}, {label} {period}, is published.{pdf_note}",
        identity=fingerprint,
        facts=facts,
        sections=_report_sections(kind, doc, replaced),
        links=links,
        attachment=attachment,
        record={"fingerprint": fingerprint, "status": status, "inputs": _input_hashes(doc)},
    )


def _replaced(doc: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The earlier version: as the report states it, else as the marker of the last delivery recorded it."""
    replaced = supersession(doc)
    if replaced is None and previous:
        replaced = {
            "path": previous.get("report_key"),
            "sha256": previous.get("report_sha256"),
            "why": why_replaced(doc, previous),
            "generated_at": previous.get("generated_at"),
        }
    return replaced


def _report_sections(
    kind: str, doc: Mapping[str, Any], replaced: Mapping[str, Any] | None
) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = []
    if replaced:
        sections.append(
            (
                "This version replaces an earlier one",
                [
                    f"Why: {replaced.get('why') or 'not stated'}",
                    f"Earlier version: {replaced.get('path') or '–'} (sha256 {replaced.get('sha256') or '–'}, "
                    f"generated {replaced.get('generated_at') or '–'})",
                ],
            )
        )
    if kind == "summary" and doc.get("missing_days"):
        sections.append(("Days without data in the lake", [list_days(list(doc["missing_days"]))]))
    return sections


def _pdf(name: str, pdf: bytes | None, max_bytes: int) -> tuple[Attachment | None, str]:
    """The PDF as an attachment when it is small enough, and the sentence the intro adds about it."""
    if pdf is None:
        return None, ""
    if len(pdf) <= max_bytes:
        return (
            Attachment(name=name, data=pdf),
            " The PDF is attached; every format is on the Compliance reports page.",
        )
    return None, (
        f" The PDF ({len(pdf):,} bytes) is larger than the {max_bytes:,}-byte attachment limit: "
        "open it on the Compliance reports page."
    )
