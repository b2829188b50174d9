"""Extra link of the transfer operator: the partition it published, in the S3 console (or the endpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.models.taskinstancekey import TaskInstanceKey

#: XCom key under which the operator stores the partition's URL for the link.
PARTITION_URL_XCOM_KEY = "vobiz_partition_url"


def partition_url(
    bucket: str, prefix: str, endpoint_url: str | None = None, region: str | None = None
) -> str:
    """The S3 console URL of ``s3://bucket/prefix``, or ``endpoint/bucket/prefix`` for MinIO and friends."""
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{quote(prefix, safe='/=')}"
    url = f"https://s3.console.aws.amazon.com/s3/buckets/{quote(bucket)}?prefix={quote(prefix, safe='')}"
    return url + (f"&region={quote(region)}" if region else "")


class VobizPartitionLink(BaseOperatorLink):
    """Opens the CDR partition the task published (its URL is stored in XCom by the task itself)."""

    name = "CDR partition"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(ti_key=ti_key, key=PARTITION_URL_XCOM_KEY)
        return value or ""
