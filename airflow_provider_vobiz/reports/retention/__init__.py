"""TRAI retention inventory: does the lake hold every day of the retention window, intact?

The Unified Licence amendment of 21 Dec 2021 requires the licensee to keep CDRs "for at least two years"
(docs/retention.md). For an as-of date ``T`` the window is ``T`` minus two *calendar* years up to
``T - 1`` (731 days when it holds a 29 February). For each day the inventory states::

    status          present | missing | failed_quality | checksum_mismatch
    rows, bytes     from the manifest (bytes as listed on S3)
    hash_check      ok | mismatch | n/a; "manifest" mode compares the listed object sizes and ETags with the
                    manifest and the manifest's own hashes (content_sha256 over the parts' sha256s, rows over
                    the parts); "full" mode also re-reads and re-hashes every part (lake.integrity, the same
                    check the quality operator runs)
    quality, reconciliation, object lock retain-until, restatements, legal hold, expires_on

Where each part lives:

- :mod:`.policy`: the obligation, the statuses of a day, the law-enforcement fields, modes and defaults;
- :mod:`.day`: one day (:class:`DayRecord`) and its judgement (:func:`assess_day`);
- :mod:`.inventory`: what the lake holds for each day of the window (:func:`inventory`);
- :mod:`.completeness`: null and invalid shares of the law-enforcement fields (:func:`completeness`);
- :mod:`.build`: the report as one JSON-able dict (:func:`build_report`), gaps, the deletion log;
- :mod:`.present`: its CSV rows and its document for people (:func:`to_document`);
- :mod:`.enforcement`: which enforcement actions run before the inventory, and their record;
- :mod:`.publish`: rendering, upload, and the whole run (:func:`run_retention_report`).

Plain functions, no Airflow: the operator (operators/retention_report.py) only wires context and connections.
"""

from __future__ import annotations

from airflow_provider_vobiz.cdr.window import parse_day
from airflow_provider_vobiz.reports.retention.build import (
    build_report,
    gap_ranges,
    read_deletion_log,
    totals_of,
)
from airflow_provider_vobiz.reports.retention.completeness import (
    completeness,
    field_completeness_counts,
    sample_days,
)
from airflow_provider_vobiz.reports.retention.day import DayRecord, assess_day
from airflow_provider_vobiz.reports.retention.enforcement import enforcement_failure, run_enforcement
from airflow_provider_vobiz.reports.retention.inventory import Inventory, inventory, window_days
from airflow_provider_vobiz.reports.retention.policy import (
    COMPLETENESS_MODES,
    DEFAULT_COMPLETENESS_SAMPLE_DAYS,
    EXPIRY_HORIZON_DAYS,
    LAW_ENFORCEMENT_FIELDS,
    POLICY,
    READABLE_STATUSES,
    REPORT_NAME,
    STATUS_CHECKSUM_MISMATCH,
    STATUS_FAILED_QUALITY,
    STATUS_MISSING,
    STATUS_PRESENT,
    STATUSES,
)
from airflow_provider_vobiz.reports.retention.present import (
    CSV_COLUMNS,
    csv_rows,
    monthly_counts,
    to_document,
)
from airflow_provider_vobiz.reports.retention.publish import (
    render,
    report_outcome,
    run_retention_report,
    write_report,
)

__all__ = [
    "COMPLETENESS_MODES",
    "CSV_COLUMNS",
    "DEFAULT_COMPLETENESS_SAMPLE_DAYS",
    "EXPIRY_HORIZON_DAYS",
    "LAW_ENFORCEMENT_FIELDS",
    "POLICY",
    "READABLE_STATUSES",
    "REPORT_NAME",
    "STATUSES",
    "STATUS_CHECKSUM_MISMATCH",
    "STATUS_FAILED_QUALITY",
    "STATUS_MISSING",
    "STATUS_PRESENT",
    "DayRecord",
    "Inventory",
    "assess_day",
    "build_report",
    "completeness",
    "csv_rows",
    "enforcement_failure",
    "field_completeness_counts",
    "gap_ranges",
    "inventory",
    "monthly_counts",
    "parse_day",
    "read_deletion_log",
    "render",
    "report_outcome",
    "run_enforcement",
    "run_retention_report",
    "sample_days",
    "to_document",
    "totals_of",
    "window_days",
    "write_report",
]
