"""The provider's setting names and defaults, kept importable here; they live in
:mod:`airflow_provider_vobiz.settings` with the resolver that reads them."""

from __future__ import annotations

from airflow_provider_vobiz.settings import (  # noqa: F401
    CDR_PARTITION_ASSET,
    DEFAULT_AWS_CONN_ID,
    DEFAULT_LAKE_URI,
    DEFAULT_MAX_REJECT_RATIO,
    DEFAULT_METHOD,
    DEFAULT_REPULL_DAYS,
    DEFAULT_RETENTION_YEARS,
    DEFAULT_TIMEZONE,
    DEFAULT_VOBIZ_CONN_ID,
    HMAC_CONN_ID,
    INGEST_DAG_ID,
    RETENTION_DAG_ID,
    SUMMARY_DAG_ID,
    VAR_ACCOUNT_ID,
    VAR_LAKE_URI,
    VAR_MAX_REJECT_RATIO,
    VAR_METHOD,
    VAR_REPULL_DAYS,
    VAR_RETENTION_YEARS,
    VAR_TIMEZONE,
    lake_uri_param,
    max_reject_ratio_param,
    template,
)

#: The re-pull window as an operator's own default (Variable, else the default), rendered at run time.
REPULL_DAYS_TEMPLATE = template("repull_days", from_params=False)
