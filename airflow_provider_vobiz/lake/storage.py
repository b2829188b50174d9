"""S3 access for the lake, through the Amazon provider's ``aws`` connection.

boto3 (via :class:`~airflow.providers.amazon.aws.hooks.s3.S3Hook`) handles object-level work (small JSON
objects, listing, copy, delete, streamed downloads); ``pyarrow.fs.S3FileSystem`` built from the same
credentials reads and writes Parquet. An ``endpoint_url`` extra on the connection points both at MinIO or a
local moto server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    import pyarrow.fs as pafs
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook


_MISSING = ("404", "NoSuchKey", "NotFound")
#: S3 answers 412 when a condition does not hold, and 409 when a conditional write raced another.
_PRECONDITION = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


class PreconditionFailed(Exception):
    """A conditional write or delete lost: the object is not (or no longer) what the caller read."""


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


class LakeStorage:
    """Thin, typed wrapper over one bucket's objects.

    :param aws_conn_id: the Airflow connection of type ``aws`` (``endpoint_url`` extra for MinIO/moto).
    :param bucket: the bucket every key below refers to.
    """

    def __init__(self, aws_conn_id: str | None, bucket: str) -> None:
        self.aws_conn_id = aws_conn_id
        self.bucket = bucket

    @cached_property
    def hook(self) -> S3Hook:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id)

    @cached_property
    def client(self) -> Any:
        return self.hook.get_conn()

    @cached_property
    def filesystem(self) -> pafs.S3FileSystem:
        """A pyarrow S3 filesystem with the connection's credentials, region and endpoint."""
        import pyarrow.fs as pafs

        creds = self.hook.get_credentials()
        kwargs: dict[str, Any] = {
            "access_key": creds.access_key,
            "secret_key": creds.secret_key,
            "session_token": creds.token,
            "region": self.hook.conn_region_name or "us-east-1",
        }
        endpoint = self.hook.conn_config.endpoint_url
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            kwargs["endpoint_override"] = host.rstrip("/")
            kwargs["scheme"] = scheme or "https"
        return pafs.S3FileSystem(**kwargs)

    def path(self, key: str) -> str:
        """The ``bucket/key`` path pyarrow's filesystem expects."""
        return f"{self.bucket}/{key}"

    # -- objects ----------------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            if error_code(err) in _MISSING:
                return None
            raise

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        """``(bytes, ETag)`` of an object, or None when it does not exist (the ETag for a later If-Match)."""
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            if error_code(err) in _MISSING:
                return None
            raise
        return resp["Body"].read(), resp["ETag"]

    def put_conditional(
        self,
        key: str,
        body: Any,
        *,
        if_match: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> str:
        """Create ``key`` only if it does not exist (``If-None-Match: *``), or replace it only if its ETag is
        still ``if_match``; returns the new ETag. Raises :class:`PreconditionFailed` when the condition fails."""
        condition = {"IfMatch": if_match} if if_match else {"IfNoneMatch": "*"}
        try:
            resp = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **condition
            )
        except ClientError as err:
            code = error_code(err)
            if code in _PRECONDITION or (if_match and code in _MISSING):
                raise PreconditionFailed(f"s3://{self.bucket}/{key}: {code}") from err
            raise
        return resp["ETag"]

    def delete_conditional(self, key: str, etag: str) -> bool:
        """Delete ``key`` only if its ETag is still ``etag``; False when it changed or is gone."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except ClientError as err:
            if error_code(err) in _PRECONDITION + _MISSING:
                return False
            raise
        return True

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def get_bytes_or_none(self, key: str) -> bytes | None:
        """An object's exact bytes, or None when the key does not exist."""
        found = self.get_versioned(key)
        return None if found is None else found[0]

    def get_json(self, key: str) -> Any | None:
        """Parse a JSON object, or return None when the key does not exist."""
        found = self.get_versioned(key)
        return None if found is None else json.loads(found[0])

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream", **extra: Any
    ) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra)

    def put_json(self, key: str, obj: Any) -> bytes:
        """Write ``obj`` as stable, indented JSON and return the bytes written."""
        data = json.dumps(obj, indent=2, sort_keys=True, default=str).encode()
        self.put_bytes(key, data, content_type="application/json")
        return data

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream an object's bytes without holding it whole in memory."""
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def list_objects(self, prefix: str, delimiter: str | None = None) -> Iterator[dict[str, Any]]:
        """Every object under ``prefix`` (``Key``, ``Size``, ``ETag``, ``LastModified``)."""
        paginator = self.client.get_paginator("list_objects_v2")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        for page in paginator.paginate(**kwargs):
            yield from page.get("Contents", [])

    def list_prefixes(self, prefix: str) -> list[str]:
        """The immediate "sub-folders" of ``prefix`` (each ending with a slash)."""
        paginator = self.client.get_paginator("list_objects_v2")
        out: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            out.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        return out

    def copy(self, src_key: str, dst_key: str) -> None:
        self.client.copy_object(
            Bucket=self.bucket, Key=dst_key, CopySource={"Bucket": self.bucket, "Key": src_key}
        )

    def delete_keys(self, keys: Iterable[str]) -> int:
        keys = list(keys)
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
        return len(keys)
