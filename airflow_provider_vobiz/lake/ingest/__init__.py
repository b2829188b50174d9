"""One day of CDRs from the API into the lake: the plain-Python pipeline the transfer operator calls.

``ingest_day`` pulls the padded query (``/export`` CSV or the paged list), normalises it in batches, checks
the pull against the API's own total, keeps the day's window, dedupes, sorts, writes deterministic Parquet
and publishes the partition atomically. Memory is bounded by batches (cdr.assemble), not by the day.

The hook is duck-typed (``query_totals``, ``export_to``, ``iter_pages``) so this package imports no client
code (the lake never imports the API client) and tests may hand it anything that speaks that contract.

Where each step lives: ``day`` (the orchestration), ``export`` (the CSV path), ``listing`` (the JSON pages
path), ``pull`` (what both paths share), ``reconcile`` (the API's totals), ``quarantine`` (rejects and their
threshold), ``errors``.
"""

import logging

from airflow_provider_vobiz.cdr.schema import DEFAULT_MAX_REJECT_RATIO
from airflow_provider_vobiz.lake.ingest.day import METHODS, check_api_age, ingest_day
from airflow_provider_vobiz.lake.ingest.errors import IngestError, ReconciliationError, RejectThresholdError
from airflow_provider_vobiz.lake.ingest.quarantine import check_rejects
from airflow_provider_vobiz.lake.ingest.reconcile import PullCounts

#: The pipeline's logger (every module of the package logs through it).
log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_REJECT_RATIO",
    "METHODS",
    "IngestError",
    "PullCounts",
    "ReconciliationError",
    "RejectThresholdError",
    "check_api_age",
    "check_rejects",
    "ingest_day",
]
