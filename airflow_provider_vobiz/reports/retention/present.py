"""How the retention report reads: its CSV rows (for machines) and its document (for people: HTML, PDF).

The document is a :class:`~airflow_provider_vobiz.reports.render.Report` of five sections (coverage, gaps and
problems, expiry and deletions, field completeness, enforcement) under notices that say what needs attention.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_vobiz.cdr.window import PROVISIONAL
from airflow_provider_vobiz.reports.render import Chart, Report, Section, Table
from airflow_provider_vobiz.reports.retention.policy import (
    STATUS_CHECKSUM_MISMATCH,
    STATUS_FAILED_QUALITY,
    STATUS_MISSING,
    STATUS_PRESENT,
    STATUSES,
)

CSV_COLUMNS = (
    "call_date",
    "status",
    "rows",
    "bytes",
    "parts",
    "hash_check",
    "quality_status",
    "reconciliation_matched",
    "retain_until",
    "restatements",
    "legal_hold",
    "expires_on",
    "content_sha256",
    "problems",
)


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per day of the window, columns :data:`CSV_COLUMNS`."""
    rows = []
    for day in report["days"]:
        row = [day.get(c) for c in CSV_COLUMNS]
        row[-1] = "; ".join(day.get("problems") or [])
        rows.append(row)
    return rows


def monthly_counts(report: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    """``[(YYYY-MM, {status: days})]`` in calendar order."""
    months: dict[str, dict[str, int]] = {}
    for day in report["days"]:
        month = day["call_date"][:7]
        counts = months.setdefault(month, dict.fromkeys(STATUSES, 0))
        counts[day["status"]] += 1
    return sorted(months.items())


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f}%"


def to_document(report: dict[str, Any]) -> Report:
    """The human-readable :class:`~airflow_provider_vobiz.reports.render.Report` of a retention report."""
    window = report["window"]
    return Report(
        title="TRAI CDR retention report",
        account_id=report["account_id"],
        period_label=f"{window['start']} to {window['end']} ({window['days']} days), as of {report['as_of']}",
        generated_at=report["generated_at"],
        provider_version=report["provider_version"],
        notices=notices(report),
        meta=meta(report),
        sections=[
            coverage_section(report),
            gaps_section(report),
            expiry_section(report),
            completeness_section(report),
            enforcement_section(report),
        ],
    )


def notices(report: dict[str, Any]) -> list[str]:
    """What the top of the document highlights: provisional status, the obligation, what needs attention."""
    totals = report["totals"]
    policy = report["policy"]
    out = [
        f"Obligation: {policy['rule']} ({policy['source']}). The obligation {policy['obligation']}. "
        f"{policy['note']}"
    ]
    if report.get("status") == PROVISIONAL:
        rule = report["status_rule"]
        out.insert(
            0,
            f"PROVISIONAL: the last days of the window are still inside the ingest's re-pull window "
            f"({rule['repull_days']} days), so late CDRs can still restate them. An inventory made on or after "
            f"{rule['final_from']} is final.",
        )
    if totals["gaps"]:
        out.append(
            f"{len(totals['missing_days'])} day(s) of the window are missing, in {len(totals['gaps'])} gap(s)."
        )
    if totals["checksum_mismatch_days"]:
        out.append(
            f"{len(totals['checksum_mismatch_days'])} day(s) do not match their manifest (checksum mismatch)."
        )
    if totals["failed_quality_days"]:
        out.append(f"{len(totals['failed_quality_days'])} day(s) failed the data quality suite.")
    if totals["expiring_within_30_days"]:
        out.append(
            f"{len(totals['expiring_within_30_days'])} day(s) leave the retention window within 30 days."
        )
    return out


def meta(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The label/value pairs under the title: as-of date, status, window, policy, verification, inputs."""
    policy = report["policy"]
    window = report["window"]
    out = [
        ("As of", report["as_of"]),
        ("Status", str(report.get("status") or "–")),
        ("Retention window", f"{window['start']} to {window['end']} ({window['days']} days)"),
        ("Policy source", policy["source"]),
        ("Window rule", policy["window_rule"]),
        ("Verification", report["verify"]),
        ("Lake", str(report["inputs"].get("lake_uri") or "–")),
        ("Manifests read", str(report["inputs"]["manifests_read"])),
    ]
    if report.get("dag_run"):
        out.append(("DAG run", f"{report['dag_run'].get('dag_id')} / {report['dag_run'].get('run_id')}"))
    return out


def coverage_section(report: dict[str, Any]) -> Section:
    """Coverage and the window's measures, then days per month by status (a chart and its table)."""
    totals = report["totals"]
    counts = totals["status_counts"]
    measures = [
        ["Expected days", totals["expected_days"]],
        ["Verified days", totals["verified_days"]],
        ["Coverage", _pct(totals["coverage"])],
        ["Present", counts[STATUS_PRESENT]],
        ["Missing", counts[STATUS_MISSING]],
        ["Failed quality", counts[STATUS_FAILED_QUALITY]],
        ["Checksum mismatch", counts[STATUS_CHECKSUM_MISMATCH]],
        ["Oldest day in the lake", totals["oldest_day"]],
        ["Newest day in the lake", totals["newest_day"]],
        ["Rows in the window", totals["rows"]],
        ["Bytes in the window", totals["bytes"]],
        ["Days under Object Lock", totals["locked_days"]],
        ["Days under legal hold", len(totals["legal_hold_days"])],
        ["Restatements", totals["restatements"]],
        ["Days past retention still in the lake", len(totals["past_retention_days"])],
    ]
    months = monthly_counts(report)
    return Section(
        "Coverage",
        paragraphs=[
            "Verified days are days whose partition is present, matches its manifest and did not fail the "
            "quality suite. Coverage is verified days over the days of the window. The per-day inventory is in "
            "the CSV and JSON files.",
        ],
        tables=[
            Table(["Measure", "Value"], measures),
            Table(
                ["Month", "Present", "Missing", "Failed quality", "Checksum mismatch"],
                [[m, *(c[s] for s in STATUSES)] for m, c in months],
                caption="Days per month",
            ),
        ],
        charts=[
            Chart(
                "stacked_bar",
                "Days per month by status",
                [m for m, _ in months],
                {s.replace("_", " "): [float(c[s]) for _, c in months] for s in STATUSES},
                y_label="days",
            )
        ],
    )


def gaps_section(report: dict[str, Any]) -> Section:
    """The gaps of the window, and the days present but not verified with their problems."""
    gaps = report["totals"]["gaps"]
    attention = [d for d in report["days"] if d["status"] != STATUS_PRESENT]
    section = Section(
        "Gaps and problems",
        paragraphs=[] if attention else ["Every day of the window is present and verified."],
        tables=[Table(["From", "To", "Days"], [[g["start"], g["end"], g["days"]] for g in gaps], "Gaps")]
        if gaps
        else [],
    )
    problems = [d for d in attention if d["status"] != STATUS_MISSING]
    if problems:
        section.tables.append(
            Table(
                ["Day", "Status", "Quality", "Problems"],
                [
                    [d["call_date"], d["status"], d["quality_status"], "; ".join(d["problems"])]
                    for d in problems
                ],
                "Days present but not verified",
            )
        )
    return section


def expiry_section(report: dict[str, Any]) -> Section:
    """When days leave the window, those that will within 30 days, and the deletion log."""
    totals = report["totals"]
    return Section(
        "Expiry and deletions",
        paragraphs=[
            "A day leaves the window, and may be deleted, on the day after call_date plus two calendar years "
            "(29 February: on the 1 March that stands for its anniversary in a year without one). "
            "Deletion happens only when purging is enabled, after a grace period, never under legal hold; "
            "each deletion is logged in the lake's append-only deletion log."
        ],
        tables=[
            Table(
                ["Day", "Leaves the window on", "Legal hold"],
                [
                    [e["call_date"], e["expires_on"], e["legal_hold"]]
                    for e in totals["expiring_within_30_days"]
                ],
                "Days expiring within 30 days",
            ),
            Table(
                ["Day", "Deleted at", "Status", "Reason"],
                [
                    [e.get("call_date"), e.get("deleted_at"), e.get("status"), e.get("reason")]
                    for e in totals["deletions"]
                ],
                "Deletion log",
            ),
        ],
    )


def completeness_section(report: dict[str, Any]) -> Section:
    """Null and invalid counts of the fields law enforcement asks for."""
    comp = report["completeness"]
    per_field = comp.get("per_field") or {}
    return Section(
        "Completeness of the fields law enforcement asks for",
        paragraphs=[
            f"Mode: {comp.get('mode')}; {comp.get('days_checked', 0)} day(s), {comp.get('rows_checked', 0)} rows "
            "read (only these seven columns). Invalid: a number not in E.164, end before start, a negative "
            "duration, a direction other than inbound/outbound, an empty SIP Call-ID."
        ],
        tables=[
            Table(
                ["Field", "Null", "Invalid", "Share null or invalid"],
                [
                    [name, c["null"], c["invalid"], _pct(c.get("share_null_or_invalid"))]
                    for name, c in per_field.items()
                ],
            )
        ]
        if per_field
        else [],
    )


def enforcement_section(report: dict[str, Any]) -> Section:
    """One row per enforcement action: on or off, and what it did."""
    enforcement = report.get("enforcement") or {}
    rows = []
    for name in ("object_lock", "lifecycle", "purge"):
        item = enforcement.get(name) or {"enabled": False}
        state = "on" if item.get("enabled") else "off"
        rows.append([name.replace("_", " "), state, _enforcement_result(name, item)])
    return Section("Enforcement", tables=[Table(["Action", "State", "Result"], rows)])


def _enforcement_result(name: str, item: dict[str, Any]) -> str:
    if not item.get("enabled"):
        return "off"
    if name == "object_lock":
        return (
            f"{item['mode']}: {len(item['applied'])} partition(s) locked now, {item['already_locked']} "
            f"already locked, {len(item['errors'])} error(s)"
        )
    if name == "lifecycle":
        return f"rule {item['rule_id']} expires {item['prefix']} after {item['expiration_days']} days"
    return (
        f"grace {item['grace_days']} days: {len(item['deleted'])} deleted, "
        f"{len(item['skipped_legal_hold'])} kept under legal hold, {len(item['errors'])} error(s)"
    )
