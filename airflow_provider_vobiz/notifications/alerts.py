"""What an alert says: a retention report's findings, a day's failed or warning quality checks, days
restated after they were reported, and a task that failed after its last try."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_vobiz.notifications.notice import Notice, digest, fmt_int, list_days
from airflow_provider_vobiz.notifications.report_messages import retention_facts


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
            (f"{len(mismatches)} day(s) whose objects do not match their manifest", [list_days(mismatches)])
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
        subject=f"[Vobiz] Quality warnings, {account_id}: {len(days)} day(s) ({list_days(dates, 3)})",
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
        subject=f"[Vobiz] Restated after reporting, {account_id}: {list_days(dates, 3)}",
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
