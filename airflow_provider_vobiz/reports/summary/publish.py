"""Making a summary report end to end: compute the document from the lake, render its four formats,
record its version and publish it under ``{lake}/reports/trai_summary/``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.window import DEFAULT_REPULL_DAYS, local_today, utc_now_iso
from airflow_provider_vobiz.lake.paths import REPORT_CONTENT_TYPES, REPORT_FORMATS, LakeLayout
from airflow_provider_vobiz.privacy import NumberPolicy
from airflow_provider_vobiz.reports.render import render_html, render_json, render_pdf
from airflow_provider_vobiz.reports.summary.build import build_summary
from airflow_provider_vobiz.reports.summary.config import SummaryConfig
from airflow_provider_vobiz.reports.summary.csv import summary_csv
from airflow_provider_vobiz.reports.summary.document import for_machines, for_people
from airflow_provider_vobiz.reports.summary.figures import compute_figures
from airflow_provider_vobiz.reports.summary.inputs import collect_inputs
from airflow_provider_vobiz.reports.summary.period import final_from, parse_period, report_status
from airflow_provider_vobiz.reports.summary.present import summary_report
from airflow_provider_vobiz.reports.summary.versions import supersede

if TYPE_CHECKING:
    import pyarrow.fs as pafs

    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)


def render_outputs(summary: Mapping[str, Any], policy: NumberPolicy) -> dict[str, bytes]:
    """All four formats: ``{"json", "csv", "html", "pdf"}`` -> bytes."""
    machine = for_machines(summary, policy)
    report = summary_report(for_people(summary))
    return {
        "json": render_json(machine),
        "csv": summary_csv(machine),
        "html": render_html(report),
        "pdf": render_pdf(report),
    }


def generate(
    fs: pafs.FileSystem,
    layout: LakeLayout,
    account_id: str,
    period: str,
    *,
    config: SummaryConfig | None = None,
    provider_version: str | None = None,
    generated_at: str | None = None,
    dag_run: Mapping[str, str] | None = None,
    threads: int | None = None,
    repull_days: int = DEFAULT_REPULL_DAYS,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Compute the summary document of one account and period from the lake (no rendering).

    :param repull_days: the ingest's re-pull window, which decides ``status`` (:func:`report_status`).
    :param today: the local day the report is made on (default: now, in the report's timezone).
    """
    from airflow_provider_vobiz import __version__

    config = config or SummaryConfig()
    _, days = parse_period(period)
    t0 = time.perf_counter()
    inputs = collect_inputs(fs, layout, account_id, days)
    log.info(
        "summary %s %s: %d of %d days present, %d part files",
        account_id,
        period,
        sum(d.present for d in inputs),
        len(days),
        sum(len(d.part_paths) for d in inputs),
    )
    figures = compute_figures(fs, layout, inputs, config, threads=threads)
    summary = build_summary(
        account_id,
        period,
        inputs,
        figures,
        config,
        provider_version=provider_version or __version__,
        generated_at=generated_at or utc_now_iso(),
        lake_uri=layout.uri,
        dag_run=dag_run,
    )
    today = today or local_today(config.timezone)
    summary["status"] = report_status(period, today, repull_days)
    summary["status_rule"] = {
        "repull_days": repull_days,
        "as_of": today.isoformat(),
        "final_from": final_from(period, repull_days).isoformat(),
    }
    summary.setdefault("version", 1)
    summary.setdefault("supersedes", [])
    log.info("summary %s %s computed in %.2f s", account_id, period, time.perf_counter() - t0)
    return summary


def publish(
    storage: LakeStorage,
    layout: LakeLayout,
    summary: Mapping[str, Any],
    outputs: Mapping[str, bytes],
    archive: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Write each format to ``{lake}/reports/trai_summary/...``; JSON last, so its presence means complete.

    :param archive: ``{key: archive key}`` from :func:`supersede`: the superseded version is copied there
        first, so it is never lost, whatever happens after.
    """
    for src, dst in (archive or {}).items():
        if storage.exists(src):
            storage.copy(src, dst)
    keys = {}
    for ext in sorted(outputs, key=lambda e: e == "json"):
        key = layout.summary_report_key(summary["account_id"], summary["period"], ext)
        storage.put_bytes(key, outputs[ext], content_type=REPORT_CONTENT_TYPES[ext])
        keys[ext] = layout.s3_uri(key)
    return keys


def run_summary(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    period: str,
    policy: NumberPolicy,
    *,
    formats: Sequence[str] = REPORT_FORMATS,
    **generate_kwargs: Any,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Generate, supersede, render and publish one report: ``(document, {format: s3 uri})``."""
    doc = generate(storage.filesystem, layout, account_id, period, **generate_kwargs)
    archive = supersede(storage, layout, doc)
    outputs = {k: v for k, v in render_outputs(doc, policy).items() if k in formats}
    return doc, publish(storage, layout, doc, outputs, archive)
