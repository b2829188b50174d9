"""Apache Airflow provider for the Vobiz CDR API.

Pulls each day's Call Detail Records into Hive-partitioned Parquet on S3, validates every partition with
Great Expectations and builds the TRAI compliance reports.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("airflow-provider-vobiz")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


# One data literal Airflow reads (connection type, hooks, operators, links, config): longer than a function
# should be, and clearer whole than split.
def get_provider_info() -> dict:
    """Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

    The UI plugin is registered through the ``airflow.plugins`` entry point only: listing it here too makes
    Airflow load it twice.
    """
    return {
        "package-name": "airflow-provider-vobiz",
        "name": "Vobiz",
        "description": "Vobiz cloud-telephony CDRs into a validated Parquet data lake, and TRAI compliance reports.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Vobiz",
                "external-doc-url": "https://docs.vobiz.ai/cdr",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "Vobiz", "python-modules": ["airflow_provider_vobiz.hooks.vobiz"]}],
        "operators": [
            {
                "integration-name": "Vobiz",
                "python-modules": [
                    "airflow_provider_vobiz.operators.quality",
                    "airflow_provider_vobiz.operators.summary_report",
                    "airflow_provider_vobiz.operators.retention_report",
                    "airflow_provider_vobiz.operators.glue",
                ],
            }
        ],
        "transfers": [
            {
                "source-integration-name": "Vobiz",
                "target-integration-name": "Amazon Simple Storage Service (S3)",
                "python-module": "airflow_provider_vobiz.transfers.vobiz_to_s3",
            }
        ],
        "extra-links": [
            "airflow_provider_vobiz.links.lake.VobizPartitionLink",
            "airflow_provider_vobiz.links.lake.VobizValidationLink",
            "airflow_provider_vobiz.links.lake.VobizReportLink",
        ],
        "connection-types": [
            {
                "connection-type": "vobiz",
                "hook-class-name": "airflow_provider_vobiz.hooks.vobiz.VobizHook",
                "hook-name": "Vobiz",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Base URL", "login": "Auth ID", "password": "Auth Token"},
                    "placeholders": {
                        "host": "https://api.vobiz.ai",
                        "login": "MA_XXXXXXXX",
                        "timeout": "30",
                        "max_retries": "8",
                        "retry_budget_seconds": "300",
                        "page_concurrency": "4",
                    },
                },
                "conn-fields": {
                    "timeout": {
                        "label": "Timeout (s)",
                        "description": "Per-request timeout in seconds.",
                        "schema": {"type": ["number", "null"], "default": 30, "minimum": 1},
                    },
                    "max_retries": {
                        "label": "Retry attempts",
                        "description": "Attempts per request for 429, 5xx, timeouts and dropped connections.",
                        "schema": {"type": ["integer", "null"], "default": 8, "minimum": 0},
                    },
                    "retry_budget_seconds": {
                        "label": "Retry time budget (s)",
                        "description": "Total time one request may spend retrying before it fails.",
                        "schema": {"type": ["number", "null"], "default": 300, "minimum": 0},
                    },
                    "page_concurrency": {
                        "label": "Page concurrency",
                        "description": "Pages of the list endpoint fetched at once.",
                        "schema": {"type": ["integer", "null"], "default": 4, "minimum": 1, "maximum": 32},
                    },
                },
            }
        ],
    }
