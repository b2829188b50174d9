"""The TRAI summary report: traffic, quality and conduct of one account per IST day and per month.

Computed from the lake, never from the API (docs/architecture.md). One module per step:

- :mod:`.config`: the settings (:class:`SummaryConfig`) and the conventions the report states;
- :mod:`.period`: a day or a month, and whether its report is final (:func:`report_status`);
- :mod:`.inputs`: each day's manifest (a :class:`~airflow_provider_vobiz.lake.manifest.Manifest`), verdict
  and part files (:func:`collect_inputs`, :func:`open_dataset`);
- :mod:`.figures`: DuckDB over those parts; the metric definitions are ``reports/summary/sql/cube.sql`` (one scan
  of each day) and ``reports/summary/sql/metrics.sql`` (the formulas);
- :mod:`.build`: the JSON document (:func:`build_summary`);
- :mod:`.document`: its copies for machines (keyed HMAC tokens) and for people (last four digits);
- :mod:`.csv`: the tidy CSV; :mod:`.present` (with ``present_*`` and :mod:`.cells`): the HTML/PDF report;
- :mod:`.publish`: :func:`generate`, :func:`render_outputs`, :func:`publish`, :func:`run_summary`;
- :mod:`.versions`: what supersedes what; :mod:`.refresh`: which published reports are stale.
"""

from __future__ import annotations

from airflow_provider_vobiz.cdr.window import DEFAULT_REPULL_DAYS, FINAL, PROVISIONAL
from airflow_provider_vobiz.reports.summary.build import build_summary
from airflow_provider_vobiz.reports.summary.cells import day_ranges as _day_ranges
from airflow_provider_vobiz.reports.summary.config import (
    DEFAULT_HANGUP_CLASSES,
    DEFAULT_SERIES_PATTERN,
    HANGUP_CLASS_NAMES,
    REPORT_NAME,
    REPORT_TITLE,
    SummaryConfig,
)
from airflow_provider_vobiz.reports.summary.csv import CSV_COLUMNS, summary_csv
from airflow_provider_vobiz.reports.summary.document import for_machines, for_people, map_cdr_text
from airflow_provider_vobiz.reports.summary.figures import (
    COLUMNS_READ,
    _inline,
    _named_blocks,
    _utc_offset_minutes,
    compute_figures,
    metric_queries,
)
from airflow_provider_vobiz.reports.summary.inputs import DayInput, collect_inputs, open_dataset
from airflow_provider_vobiz.reports.summary.period import (
    final_from,
    parse_period,
    previous_month,
    report_status,
)
from airflow_provider_vobiz.reports.summary.present import summary_report
from airflow_provider_vobiz.reports.summary.publish import generate, publish, render_outputs, run_summary
from airflow_provider_vobiz.reports.summary.refresh import refresh_reason, stale_reports
from airflow_provider_vobiz.reports.summary.versions import supersede, why_superseded

__all__ = [
    "COLUMNS_READ",
    "CSV_COLUMNS",
    "DEFAULT_HANGUP_CLASSES",
    "DEFAULT_REPULL_DAYS",
    "DEFAULT_SERIES_PATTERN",
    "FINAL",
    "HANGUP_CLASS_NAMES",
    "PROVISIONAL",
    "REPORT_NAME",
    "REPORT_TITLE",
    "DayInput",
    "SummaryConfig",
    "build_summary",
    "collect_inputs",
    "compute_figures",
    "final_from",
    "for_machines",
    "for_people",
    "generate",
    "map_cdr_text",
    "metric_queries",
    "open_dataset",
    "parse_period",
    "previous_month",
    "publish",
    "refresh_reason",
    "render_outputs",
    "report_status",
    "run_summary",
    "stale_reports",
    "summary_csv",
    "summary_report",
    "supersede",
    "why_superseded",
    # The SQL's contract and the day-range wording are tested through the package (tests/unit).
    "_day_ranges",
    "_inline",
    "_named_blocks",
    "_utc_offset_minutes",
]
