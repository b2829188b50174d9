"""What is said: plain messages built from report JSON, quality results and task failures (no Airflow here).

Every string a message shows goes through :func:`scrub` when it is rendered, so no full phone number (the
masking of the HTML reports, :func:`~airflow_provider_vobiz.privacy.mask_text`) and no registered
secret reaches a mail or a Slack post, whatever an exception message or a check name carried.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vobiz.privacy import mask_text

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


def scrub(text: Any) -> str:
    """``text`` with phone numbers masked to their last four digits and Airflow's masked secrets hidden."""
    value = mask_text(str(text))
    try:
        from airflow.sdk.log import redact

        value = str(redact(value))
    except ImportError:  # pragma: no cover - outside Airflow the secrets masker is not there
        pass
    return value


def digest(*parts: Any) -> str:
    """A stable sha256 hex of JSON-able parts (sorted keys)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


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


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    content_type: str = "application/pdf"


@dataclass
class Notice:
    """One message, channel-neutral.

    :param audience: ``report`` (report recipients) or ``alert`` (alert recipients).
    :param account_id: the account it is about (markers live under it).
    :param topic: what it is about, as a lake marker topic (``trai_summary/period=2026-10``, ``ingest``).
    :param identity: what makes two notices the same notice; hashed with the recipients into the marker.
    :param record: what the marker keeps about it (report hash, inputs, status), for later replacements.
    """

    audience: str
    account_id: str
    topic: str
    subject: str
    intro: str
    identity: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    attachment: Attachment | None = None
    record: dict[str, Any] = field(default_factory=dict)

    def html(self) -> str:
        e: Callable[[Any], str] = lambda v: html.escape(scrub(v))  # noqa: E731
        rows = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in self.facts)
        parts = [f"<p>{e(self.intro)}</p>"]
        if rows:
            parts.append(f"<table cellpadding='4'>{rows}</table>")
        for heading, items in self.sections:
            lis = "".join(f"<li>{e(i)}</li>" for i in items)
            parts.append(f"<h3>{e(heading)}</h3><ul>{lis}</ul>")
        if self.links:
            lis = "".join(
                f"<li><a href='{html.escape(u, quote=True)}'>{e(t)}</a></li>" for t, u in self.links
            )
            parts.append(f"<h3>Links</h3><ul>{lis}</ul>")
        if self.attachment is not None:
            parts.append(f"<p>Attached: {e(self.attachment.name)}</p>")
        parts.append(
            "<p><small>Sent by airflow-provider-vobiz. Phone numbers show only their last four digits.</small></p>"
        )
        return "<html><body>" + "".join(parts) + "</body></html>"

    def text(self) -> str:
        """Plain text (Slack): subject, intro, facts, sections, links."""
        lines = [f"*{scrub(self.subject)}*", scrub(self.intro)]
        lines += [f"• {scrub(k)}: {scrub(v)}" for k, v in self.facts]
        for heading, items in self.sections:
            lines.append(f"_{scrub(heading)}_")
            lines += [f"  – {scrub(i)}" for i in items]
        lines += [f"<{u}|{scrub(t)}>" for t, u in self.links]
        return "\n".join(lines)


# -- formatting ---------------------------------------------------------------------------------------------
def fmt_int(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def fmt_pct(v: Any) -> str:
    return "–" if v is None else f"{float(v) * 100:.2f}%"


def fmt_num(v: Any, digits: int = 2) -> str:
    return "–" if v is None else f"{float(v):,.{digits}f}"


def fmt_inr(v: Any) -> str:
    return "–" if v is None else f"₹{float(v):,.2f}"


def _days(values: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


# -- report delivery ----------------------------------------------------------------------------------------
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
        reasons.append(f"restated day(s): {_days(changed)}")
    if added:
        reasons.append(f"day(s) now present: {_days(added)}")
    if removed:
        reasons.append(f"day(s) no longer present: {_days(removed)}")
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
    :param report_link: where the report is on the Compliance reports page.
    :param previous: the marker of the last delivery of this report, if one was delivered before.
    """
    account = str(doc["account_id"])
    period = str(doc["period"] if kind == "summary" else doc["as_of"])
    status = report_status(doc)
    title = REPORT_TITLES[kind]
    label = "period" if kind == "summary" else "as of"
    replaced = supersession(doc)
    if replaced is None and previous:
        replaced = {
            "path": previous.get("report_key"),
            "sha256": previous.get("report_sha256"),
            "why": why_replaced(doc, previous),
            "generated_at": previous.get("generated_at"),
        }
    subject = f"[Vobiz] {title}, {account}, {label} {period}"
    if status:
        subject += f" ({status})"
    if replaced:
        subject += ": replaces an earlier version"
    facts = [("Account", account), ("Period" if kind == "summary" else "As of", period)]
    facts.append(("Status", status or "not stated"))
    facts += summary_facts(doc) if kind == "summary" else retention_facts(doc)
    facts.append(("Generated at", str(doc.get("generated_at", "–"))))
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
        sections.append(("Days without data in the lake", [_days(list(doc["missing_days"]))]))
    attachment = None
    intro = f"The {title} of account {account}, {label} {period}, is published."
    if pdf is not None and len(pdf) <= max_attachment_bytes:
        attachment = Attachment(name=f"trai_{kind}_{account}_{period}.pdf", data=pdf)
        intro += " The PDF is attached; every format is on the Compliance reports page."
    elif pdf is not None:
        intro += (
            f" The PDF ({len(pdf):,} bytes) is larger than the {max_attachment_bytes:,}-byte attachment limit: "
            "open it on the Compliance reports page."
        )
    links = [("Compliance reports page: this report", report_link)]
    if run_link:
        links.append(("The Airflow run", run_link))
    fingerprint = report_fingerprint(doc)
    return Notice(
        audience="report",
        account_id=account,
        topic=f"trai_{kind}/{'period' if kind == 'summary' else 'as_of'}={period}",
        subject=subject,
        intro=intro,
        identity=fingerprint,
        facts=facts,
        sections=sections,
        links=links,
        attachment=attachment,
        record={"fingerprint": fingerprint, "status": status, "inputs": _input_hashes(doc)},
    )


# -- alerts -------------------------------------------------------------------------------------------------
def retention_alert(doc: Mapping[str, Any], *, report_link: str, run_link: str | None) -> Notice | None:
    """An alert when the retention report found gaps, checksum mismatches, or days leaving the window
    within 30 days that carry no Object Lock and no legal hold; None when it found none of these."""
    t = doc.get("totals") or {}
    retain = {str(d.get("call_date")): d for d in doc.get("days") or [] if isinstance(d, Mapping)}
    unlocked = [
        e
        for e in t.get("expiring_within_30_days") or []
        if not e.get("legal_hold") and not (retain.get(str(e.get("call_date"))) or {}).get("retain_until")
    ]
    gaps, mismatches = t.get("gaps") or [], t.get("checksum_mismatch_days") or []
    if not (gaps or mismatches or unlocked):
        return None
    account, as_of = str(doc["account_id"]), str(doc["as_of"])
    sections = []
    if gaps:
        items = [f"{g['start']} to {g['end']} ({g['days']} day(s))" for g in gaps[-10:]]
        if len(gaps) > 10:
            items.insert(0, f"{len(gaps) - 10} earlier gap(s) not listed")
        sections.append((f"{len(t.get('missing_days') or [])} missing day(s) in {len(gaps)} gap(s)", items))
    if mismatches:
        sections.append(
            (f"{len(mismatches)} day(s) whose objects do not match their manifest", [_days(mismatches)])
        )
    if unlocked:
        sections.append(
            (
                f"{len(unlocked)} day(s) leave the window within 30 days without Object Lock or legal hold",
                [f"{e['call_date']} expires on {e['expires_on']}" for e in unlocked[:10]],
            )
        )
    what = ", ".join(
        w
        for w, n in (
            ("gaps", gaps),
            ("checksum mismatches", mismatches),
            ("unlocked days expiring", unlocked),
        )
        if n
    )
    links = [("The retention report", report_link)] + ([("The Airflow run", run_link)] if run_link else [])
    return Notice(
        audience="alert",
        account_id=account,
        topic=f"retention_alert/as_of={as_of}",
        subject=f"[Vobiz] Retention alert, {account}, as of {as_of}: {what}",
        intro=f"The retention report of account {account} as of {as_of} found {what}.",
        identity=digest(gaps, mismatches, unlocked),
        facts=retention_facts(doc),
        sections=sections,
        links=links,
    )


def failed_checks(vobiz_meta: Mapping[str, Any], severity: str) -> list[str]:
    """``name: N unexpected`` for each failed check of ``severity`` in a validation's ``meta.vobiz``."""
    out = []
    for c in vobiz_meta.get("checks") or []:
        if c.get("severity") == severity and not c.get("success"):
            count = c.get("unexpected_count")
            detail = f"{count:,} unexpected" if isinstance(count, int) else (c.get("error") or "failed")
            if c.get("unexpected_percent") is not None:
                detail += f" ({float(c['unexpected_percent']):.2f}%)"
            out.append(f"{c.get('name')}: {detail}")
    return out


def quality_failure_alert(vobiz_meta: Mapping[str, Any], *, links: Sequence[tuple[str, str]]) -> Notice:
    """A day failed a critical expectation: the failed checks and their counts."""
    account, day = str(vobiz_meta["account_id"]), str(vobiz_meta["call_date"])
    critical = failed_checks(vobiz_meta, "critical")
    warnings = failed_checks(vobiz_meta, "warning")
    sections = [("Failed critical checks", critical or ["(see the validation result)"])]
    if warnings:
        sections.append(("Failed warning checks", warnings))
    return Notice(
        audience="alert",
        account_id=account,
        topic=f"quality_failed/call_date={day}",
        subject=f"[Vobiz] Quality failed, {account}, {day}: {len(critical)} critical check(s)",
        intro=f"The CDR partition of {day} (account {account}) failed critical data quality checks; "
        "the ingest task failed and the day is not announced to the reports.",
        identity=digest(vobiz_meta.get("content_sha256"), vobiz_meta.get("suite_sha256"), critical),
        facts=[
            ("Rows", fmt_int(vobiz_meta.get("rows"))),
            ("Validated at", str(vobiz_meta.get("validated_at"))),
        ],
        sections=sections,
        links=list(links),
    )


def warnings_digest(
    account_id: str, days: Sequence[tuple[Mapping[str, Any], str]], *, run_link: str | None
) -> Notice:
    """One message for every day of a run that carries warnings: ``days`` is ``(meta.vobiz, link)``."""
    sections = [
        (
            f"{m['call_date']} ({fmt_int(m.get('rows'))} rows)",
            failed_checks(m, "warning") + [f"Details: {link}"],
        )
        for m, link in days
    ]
    dates = [str(m["call_date"]) for m, _ in days]
    return Notice(
        audience="alert",
        account_id=account_id,
        topic="quality_warnings",
        subject=f"[Vobiz] Quality warnings, {account_id}: {len(days)} day(s) ({_days(dates, 3)})",
        intro=f"These days of account {account_id} passed their critical checks but carry warnings.",
        identity=digest([(m.get("call_date"), m.get("content_sha256")) for m, _ in days]),
        sections=sections,
        links=[("The Airflow run", run_link)] if run_link else [],
    )


def restatement_alert(
    account_id: str, restated: Iterable[Mapping[str, Any]], *, run_link: str | None
) -> Notice:
    """Days already reported whose content changed: ``restated`` items carry ``call_date``, ``change``
    (the manifest's last history entry), ``reports`` (report keys citing the day) and ``link``."""
    restated = list(restated)
    sections = []
    for r in restated:
        ch = r.get("change") or {}
        sections.append(
            (
                str(r["call_date"]),
                [
                    f"Rows {fmt_int(ch.get('old_row_count'))} → {fmt_int(ch.get('new_row_count'))}",
                    f"Content sha256 {ch.get('old_content_sha256')} → {ch.get('new_content_sha256')}",
                    "Reported in: " + ", ".join(r.get("reports") or []),
                    f"Partition: {r.get('link')}",
                ],
            )
        )
    dates = [str(r["call_date"]) for r in restated]
    return Notice(
        audience="alert",
        account_id=account_id,
        topic="restatements",
        subject=f"[Vobiz] Restated after reporting, {account_id}: {_days(dates, 3)}",
        intro="These days were already in a published report and their CDRs changed (late or updated records). "
        "The reports that cite them are regenerated by the next summary runs and replace the earlier versions.",
        identity=digest(
            [(r["call_date"], (r.get("change") or {}).get("new_content_sha256")) for r in restated]
        ),
        sections=sections,
        links=[("The Airflow run", run_link)] if run_link else [],
    )


def task_failure_alert(
    *,
    account_id: str,
    dag_id: str,
    task_id: str,
    run_id: str,
    try_number: int | None,
    day: str | None,
    error: BaseException | None,
    links: Sequence[tuple[str, str]],
) -> Notice:
    """A task failed after its last retry: what, where, and the API endpoint and status when it was the API."""
    facts = [("DAG", dag_id), ("Task", task_id), ("Run", run_id), ("Tries", str(try_number or "–"))]
    if day:
        facts.append(("Day", day))
    api = _api_error(error)
    if api is not None:
        facts += [
            ("API endpoint", str(getattr(api, "endpoint", None) or "–")),
            ("HTTP status", str(getattr(api, "status", None) or "none (transport)")),
            ("Request id", str(getattr(api, "request_id", None) or "–")),
        ]
    message = f"{type(error).__name__}: {error}" if error is not None else "no error recorded"
    return Notice(
        audience="alert",
        account_id=account_id,
        topic="task_failed",
        subject=f"[Vobiz] Task failed, {dag_id}.{task_id}" + (f", {day}" if day else ""),
        intro=f"Task {task_id} of {dag_id} failed after its last try.",
        identity=digest(dag_id, run_id, task_id, day, try_number),
        facts=facts,
        sections=[("Error", [message[:2000]])],
        links=list(links),
    )


def _api_error(error: BaseException | None) -> BaseException | None:
    """The Vobiz API error in an exception's cause chain (an ingest error wraps it), if any."""
    seen = 0
    while error is not None and seen < 5:
        if hasattr(error, "endpoint") and hasattr(error, "status"):
            return error
        error = error.__cause__ or error.__context__
        seen += 1
    return None
