"""The retention report end to end: inventory, completeness, deletion log, report, rendering, upload."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.window import DEFAULT_REPULL_DAYS
from airflow_provider_vobiz.lake.paths import REPORT_CONTENT_TYPES, REPORT_FORMATS
from airflow_provider_vobiz.lake.retention import DEFAULT_RETENTION_YEARS
from airflow_provider_vobiz.reports.render import render_csv, render_html, render_json, render_pdf
from airflow_provider_vobiz.reports.retention.build import build_report, read_deletion_log
from airflow_provider_vobiz.reports.retention.completeness import completeness
from airflow_provider_vobiz.reports.retention.inventory import inventory
from airflow_provider_vobiz.reports.retention.policy import DEFAULT_COMPLETENESS_SAMPLE_DAYS
from airflow_provider_vobiz.reports.retention.present import CSV_COLUMNS, csv_rows, to_document

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)


def render(report: dict[str, Any], formats: Sequence[str] = REPORT_FORMATS) -> dict[str, bytes]:
    """``{ext: bytes}`` of the report in each requested format."""
    out: dict[str, bytes] = {}
    document = None
    for ext in formats:
        if ext == "json":
            out[ext] = render_json(report)
        elif ext == "csv":
            out[ext] = render_csv(list(CSV_COLUMNS), csv_rows(report))
        elif ext in ("html", "pdf"):
            document = document or to_document(report)
            out[ext] = render_html(document) if ext == "html" else render_pdf(document)
        else:
            raise ValueError(f"unknown report format {ext!r}: use csv, json, html or pdf")
    return out


def write_report(
    storage: LakeStorage,
    layout: LakeLayout,
    report: dict[str, Any],
    formats: Sequence[str] = REPORT_FORMATS,
) -> dict[str, str]:
    """Render and upload the report; returns ``{ext: s3 uri}``."""
    uris: dict[str, str] = {}
    for ext, data in render(report, formats).items():
        key = layout.retention_report_key(report["account_id"], report["as_of"], ext)
        storage.put_bytes(key, data, content_type=REPORT_CONTENT_TYPES[ext])
        uris[ext] = layout.s3_uri(key)
    log.info("Wrote the retention report as %s", ", ".join(sorted(uris.values())))
    return uris


def run_retention_report(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    as_of: dt.date | str,
    *,
    years: int = DEFAULT_RETENTION_YEARS,
    verify: str = "manifest",
    completeness_mode: str | None = None,
    completeness_sample_days: int = DEFAULT_COMPLETENESS_SAMPLE_DAYS,
    enforcement: dict[str, Any] | None = None,
    formats: Sequence[str] = REPORT_FORMATS,
    dag_run: dict[str, str] | None = None,
    max_workers: int = 10,
    repull_days: int = DEFAULT_REPULL_DAYS,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Inventory, completeness, deletion log, report, upload: returns ``(report, {ext: uri})``.

    :param completeness_mode: default "full" with ``verify="full"``, otherwise "sample".
    """
    inv = inventory(storage, layout, account_id, as_of, years=years, verify=verify, max_workers=max_workers)
    mode = completeness_mode or ("full" if verify == "full" else "sample")
    comp = completeness(storage, inv, mode=mode, sample_size=completeness_sample_days)
    report = build_report(
        inv,
        completeness_result=comp,
        deletions=read_deletion_log(storage, layout, account_id, max_workers=max_workers),
        enforcement=enforcement,
        lake_uri=layout.uri,
        dag_run=dag_run,
        repull_days=repull_days,
    )
    uris = write_report(storage, layout, report, formats) if formats else {}
    totals = report["totals"]
    log.info(
        "Coverage %s: %d of %d days verified, %d gap(s), %d expiring within 30 days; report at %s",
        totals["coverage"],
        totals["verified_days"],
        totals["expected_days"],
        len(totals["gaps"]),
        len(totals["expiring_within_30_days"]),
        uris.get("json"),
    )
    return report, uris


def report_outcome(report: dict[str, Any], uris: dict[str, str]) -> dict[str, Any]:
    """What a run of the report tells its caller (the operator's XCom): coverage, gaps and where the files
    are."""
    totals = report["totals"]
    return {
        "account_id": report["account_id"],
        "as_of": report["as_of"],
        "coverage": totals["coverage"],
        "verified_days": totals["verified_days"],
        "expected_days": totals["expected_days"],
        "gaps": len(totals["gaps"]),
        "reports": uris,
    }
