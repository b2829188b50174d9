"""Extra links of the lake operators: what a task wrote, in the S3 console (or under the S3 endpoint).

The task computes the URL itself (it knows the key and the connection's endpoint) and stores it in XCom; the
link only reads it back, so the api-server needs neither the connection nor the lake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.models.taskinstancekey import TaskInstanceKey

    from airflow_provider_vobiz.lake.storage import LakeStorage

#: XCom keys under which the operators store the URLs their links open.
PARTITION_URL_XCOM_KEY = "vobiz_partition_url"
VALIDATION_URL_XCOM_KEY = "vobiz_validation_url"
REPORT_URL_XCOM_KEY = "vobiz_report_url"


def partition_url(
    bucket: str, prefix: str, endpoint_url: str | None = None, region: str | None = None
) -> str:
    """The S3 console URL of ``s3://bucket/prefix``, or ``endpoint/bucket/prefix`` for MinIO and friends."""
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{quote(prefix, safe='/=')}"
    url = f"https://s3.console.aws.amazon.com/s3/buckets/{quote(bucket)}?prefix={quote(prefix, safe='')}"
    return url + (f"&region={quote(region)}" if region else "")


def object_url(bucket: str, key: str, endpoint_url: str | None = None, region: str | None = None) -> str:
    """The S3 console URL of one object, or ``endpoint/bucket/key`` for MinIO and friends."""
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{quote(key, safe='/=')}"
    url = f"https://s3.console.aws.amazon.com/s3/object/{quote(bucket)}?prefix={quote(key, safe='')}"
    return url + (f"&region={quote(region)}" if region else "")


def push_object_link(context: Any, storage: LakeStorage, xcom_key: str, key: str) -> str:
    """Store the URL of ``key`` (in ``storage``'s bucket) in XCom for an extra link; returns it."""
    url = object_url(storage.bucket, key, endpoint_url=storage.endpoint_url, region=storage.region)
    ti = context.get("ti")
    if ti is not None:  # None when an operator is executed by hand, outside a task
        ti.xcom_push(key=xcom_key, value=url)
    return url


class _XComUrlLink(BaseOperatorLink):
    xcom_key: str = ""

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return XCom.get_value(ti_key=ti_key, key=self.xcom_key) or ""


class VobizPartitionLink(_XComUrlLink):
    """Opens the CDR partition the task published."""

    name = "CDR partition"
    xcom_key = PARTITION_URL_XCOM_KEY


class VobizValidationLink(_XComUrlLink):
    """Opens the readable validation result (``validation.html``) the quality task wrote."""

    name = "Validation result"
    xcom_key = VALIDATION_URL_XCOM_KEY


class VobizReportLink(_XComUrlLink):
    """Opens the HTML rendering of the report the task wrote."""

    name = "Report"
    xcom_key = REPORT_URL_XCOM_KEY
