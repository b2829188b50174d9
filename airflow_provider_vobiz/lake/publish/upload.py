"""Uploading a publish's files: every object is new (its version is in the key) and never overwrites one."""

from __future__ import annotations

import os

from airflow_provider_vobiz.lake.integrity import clean_etag
from airflow_provider_vobiz.lake.storage import LakeStorage

#: Up to this size a file goes up in one streamed, conditional PUT; above, boto3's multipart transfer.
_SINGLE_PUT_MAX = 1 << 30


def upload_new(storage: LakeStorage, path: str, key: str, content_type: str) -> str:
    """Upload a local file as a new object; returns its ETag. One streamed, conditional PUT up to 1 GiB;
    boto3's managed multipart transfer above (the version in the key keeps it unique)."""
    if os.path.getsize(path) <= _SINGLE_PUT_MAX:
        with open(path, "rb") as body:
            return clean_etag(storage.put_conditional(key, body, content_type=content_type)) or ""
    storage.upload_file(path, key, content_type=content_type)
    return clean_etag((storage.head(key) or {}).get("ETag")) or ""
