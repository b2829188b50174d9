"""Names and defaults shared by the DAGs, operators and the UI page.

DAG params default to Jinja expressions over Airflow Variables, so a deployment configures the lake, the
timezone and the re-pull window with Variables (or per run with params) and nothing is read from the metadata
database when a DAG file is parsed.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param

# Defined beside the day windows (no Airflow there, so reports can use it too); re-exported for the DAGs.
from airflow_provider_vobiz.cdr.window import DEFAULT_REPULL_DAYS  # noqa: F401
from airflow_provider_vobiz.lake.ingest import DEFAULT_MAX_REJECT_RATIO

#: Airflow Variables and their defaults.
VAR_LAKE_URI = "vobiz_lake_uri"
DEFAULT_LAKE_URI = "s3://vobiz-lake/lake"
VAR_TIMEZONE = "vobiz_timezone"
#: Partitions are calendar days of a call's start_time in this timezone (TRAI reports live in IST).
DEFAULT_TIMEZONE = "Asia/Kolkata"
VAR_REPULL_DAYS = "vobiz_repull_days"
VAR_METHOD = "vobiz_method"
DEFAULT_METHOD = "export"
VAR_ACCOUNT_ID = "vobiz_account_id"
#: Share of a pull's records that may be quarantined before the ingest task fails instead of publishing.
VAR_MAX_REJECT_RATIO = "vobiz_max_reject_ratio"
VAR_RETENTION_YEARS = "vobiz_retention_years"
DEFAULT_RETENTION_YEARS = 2
#: Key for keyed HMAC tokens of phone numbers in machine-readable reports: the password of this connection.
HMAC_CONN_ID = "vobiz_report_hmac"

DEFAULT_VOBIZ_CONN_ID = "vobiz_default"
DEFAULT_AWS_CONN_ID = "aws_default"

INGEST_DAG_ID = "vobiz_cdr_ingest"
SUMMARY_DAG_ID = "vobiz_trai_summary"
RETENTION_DAG_ID = "vobiz_trai_retention"

#: One event per published (or restated) partition; its ``extra`` carries ``account_id``, ``call_date``,
#: ``lake_uri``, ``row_count``, ``content_sha256`` and ``changed``.
CDR_PARTITION_ASSET = Asset(name="vobiz_cdr_partition")


def var_template(name: str, default: object) -> str:
    """A Jinja expression reading Variable ``name`` at run time, falling back to ``default``."""
    return "{{ var.value.get(" + repr(name) + ", " + repr(str(default)) + ") }}"


#: The re-pull window the ingest uses, read at run time by the report operators (provisional or final).
REPULL_DAYS_TEMPLATE = var_template(VAR_REPULL_DAYS, DEFAULT_REPULL_DAYS)


def setting_template(param: str, variable: str, default: object) -> str:
    """A Jinja expression: DAG param ``param`` if set, else Variable ``variable``, else ``default``."""
    return "{{ params.%s or var.value.get(%r, %r) }}" % (param, variable, str(default))  # noqa: UP031


def number_setting_template(param: str, variable: str, default: object) -> str:
    """As :func:`setting_template` for a number param, where 0 is a value and only null falls back."""
    return "{{ params.%s if params.%s is not none else var.value.get(%r, %r) }}" % (  # noqa: UP031
        param,
        param,
        variable,
        str(default),
    )


def max_reject_ratio_param() -> Param:
    """The ``max_reject_ratio`` DAG param: null means Variable ``vobiz_max_reject_ratio``, else the default."""
    return Param(
        None,
        type=["null", "number"],
        minimum=0,
        maximum=1,
        description=(
            "Share of the records read that may be quarantined before the day fails "
            f"(default {DEFAULT_MAX_REJECT_RATIO}); null: Variable {VAR_MAX_REJECT_RATIO}"
        ),
    )


def lake_uri_param() -> Param:
    """The ``lake_uri`` DAG param every Vobiz DAG takes: empty means Variable ``vobiz_lake_uri``."""
    return Param("", type="string", description=f"s3://bucket/prefix; empty: Variable {VAR_LAKE_URI}")
