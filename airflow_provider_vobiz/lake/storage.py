"""S3 access for the lake, through the Amazon provider's ``aws`` connection: the only module that calls boto3.

Where :class:`~airflow.providers.amazon.aws.hooks.s3.S3Hook` has the operation (head, listing, prefixes,
copy), :class:`LakeStorage` calls it. What the lake needs and the hook lacks is here, on the hook's own boto3
client: exact bytes with their ETag, conditional writes and deletes (``If-Match`` / ``If-None-Match``), puts
with a content type, uploads of local files, batched deletes that report each refused key, and the bucket's
Object Lock, legal holds, lifecycle, versioning and object versions. ``pyarrow.fs.S3FileSystem`` built from
the same credentials reads and writes Parquet. An ``endpoint_url`` extra on the connection points both at
MinIO or a local moto server.
"""

from __future__ import annotations

import datetime as dt
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
_NO_LOCK_CONFIGURATION = ("ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration")
#: S3 deletes at most this many objects per request.
_DELETE_BATCH = 1000


class PreconditionFailed(Exception):
    """A conditional write or delete lost: the object is not (or no longer) what the caller read."""


def error_code(err: ClientError) -> str:
    """The S3 error code of a boto3 error (``NoSuchKey``, ``412``, ...)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def stable_json(obj: Any) -> bytes:
    """The stable JSON bytes the lake stores its small objects as (sorted keys, indented: same object, same
    bytes, so their sha256 can be cited)."""
    return json.dumps(obj, indent=2, sort_keys=True, default=str).encode()


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
        """The hook's boto3 client (the same object S3Hook's methods use)."""
        return self.hook.get_conn()

    def connect(self) -> LakeStorage:
        """Build the client now: call before threads share this storage (boto3 clients are thread-safe,
        building one is not)."""
        _ = self.client
        return self

    @property
    def endpoint_url(self) -> str | None:
        """The connection's ``endpoint_url`` (MinIO, moto), or None for AWS itself."""
        return self.hook.conn_config.endpoint_url

    @property
    def region(self) -> str | None:
        """The connection's region, or None when it names none."""
        return self.hook.conn_region_name

    @cached_property
    def filesystem(self) -> pafs.S3FileSystem:
        """A pyarrow S3 filesystem with the connection's credentials, region and endpoint."""
        import pyarrow.fs as pafs

        creds = self.hook.get_credentials()
        kwargs: dict[str, Any] = {
            "access_key": creds.access_key,
            "secret_key": creds.secret_key,
            "session_token": creds.token,
            "region": self.region or "us-east-1",
        }
        endpoint = self.endpoint_url
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            kwargs["endpoint_override"] = host.rstrip("/")
            kwargs["scheme"] = scheme or "https"
        return pafs.S3FileSystem(**kwargs)

    def path(self, key: str) -> str:
        """The ``bucket/key`` path pyarrow's filesystem expects."""
        return f"{self.bucket}/{key}"

    # -- reading objects ----------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's metadata (``ContentLength``, ``ETag``, Object Lock fields, ...), or None."""
        return self.hook.head_object(key, bucket_name=self.bucket)

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        """``(bytes, ETag)`` of an object, or None when it does not exist (the ETag for a later If-Match)."""
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            if error_code(err) in _MISSING:
                return None
            raise
        return resp["Body"].read(), resp["ETag"]

    def get_bytes(self, key: str) -> bytes:
        """An object's exact bytes (raises when it does not exist)."""
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def get_bytes_or_none(self, key: str) -> bytes | None:
        """An object's exact bytes, or None when the key does not exist."""
        found = self.get_versioned(key)
        return None if found is None else found[0]

    def get_json(self, key: str) -> Any | None:
        """Parse a JSON object, or return None when the key does not exist."""
        found = self.get_versioned(key)
        return None if found is None else json.loads(found[0])

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream an object's bytes without holding it whole in memory."""
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    # -- listing ------------------------------------------------------------------------------------------
    def list_objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        """Every object under ``prefix`` (``Key``, ``Size``, ``ETag``, ``LastModified``)."""
        return self.hook.iter_file_metadata(prefix, bucket_name=self.bucket)

    def list_prefixes(self, prefix: str) -> list[str]:
        """The immediate "sub-folders" of ``prefix`` (each ending with a slash)."""
        return self.hook.list_prefixes(bucket_name=self.bucket, prefix=prefix, delimiter="/")

    def list_object_versions(self, prefix: str) -> Iterator[dict[str, Any]]:
        """Every version and delete marker under ``prefix`` (``Key``, ``VersionId``, ...)."""
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Versions", [])
            yield from page.get("DeleteMarkers", [])

    # -- writing objects ----------------------------------------------------------------------------------
    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream", **extra: Any
    ) -> None:
        """Write ``data`` unconditionally (``extra``: more ``PutObject`` arguments)."""
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra)

    def put_json(self, key: str, obj: Any) -> bytes:
        """Write ``obj`` as :func:`stable_json` and return the bytes written."""
        data = stable_json(obj)
        self.put_bytes(key, data, content_type="application/json")
        return data

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

    def upload_file(self, path: str, key: str, content_type: str = "application/octet-stream") -> None:
        """Upload a local file (multipart when large), replacing ``key``.

        S3Hook's ``load_file`` sets no content type and HEADs the key first; parts are new keys anyway.
        """
        self.client.upload_file(path, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def copy(self, src_key: str, dst_key: str) -> None:
        """Copy an object inside the bucket (no ACL: the bucket's own settings apply)."""
        from airflow.providers.amazon.aws.hooks.s3 import NO_ACL

        self.hook.copy_object(
            src_key, dst_key, source_bucket_name=self.bucket, dest_bucket_name=self.bucket, acl_policy=NO_ACL
        )

    # -- deleting objects ---------------------------------------------------------------------------------
    def delete_conditional(self, key: str, etag: str) -> bool:
        """Delete ``key`` only if its ETag is still ``etag``; False when it changed or is gone."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except ClientError as err:
            if error_code(err) in _PRECONDITION + _MISSING:
                return False
            raise
        return True

    def delete_keys(self, objects: Iterable[str | tuple[str, str]]) -> list[dict[str, str]]:
        """Delete objects in batches of 1000; returns what S3 refused, ``[{"key", "code", "message"}]``.

        :param objects: keys, or ``(key, version_id)`` pairs to delete one version of an object (in a
            versioned bucket a bare key only adds a delete marker).

        S3Hook's ``delete_objects`` raises on the first refused batch without saying why; callers here log
        each refusal (the deletion log) and go on.
        """
        items = [{"Key": o} if isinstance(o, str) else {"Key": o[0], "VersionId": o[1]} for o in objects]
        errors: list[dict[str, str]] = []
        for start in range(0, len(items), _DELETE_BATCH):
            resp = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": items[start : start + _DELETE_BATCH], "Quiet": True}
            )
            errors.extend(
                {"key": e.get("Key", ""), "code": e.get("Code", ""), "message": e.get("Message", "")}
                for e in resp.get("Errors", [])
            )
        return errors

    # -- Object Lock, legal hold, lifecycle, versioning ---------------------------------------------------
    def object_lock_enabled(self) -> bool:
        """Whether the bucket was created with S3 Object Lock enabled."""
        try:
            conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as err:
            if error_code(err) not in _NO_LOCK_CONFIGURATION:
                raise
            conf = {}
        return (conf.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"

    def put_retention(self, key: str, mode: str, retain_until: dt.datetime) -> None:
        """Put an Object Lock retention (``GOVERNANCE`` or ``COMPLIANCE``) on the object until then."""
        self.client.put_object_retention(
            Bucket=self.bucket, Key=key, Retention={"Mode": mode, "RetainUntilDate": retain_until}
        )

    def put_legal_hold(self, key: str, hold: bool) -> None:
        """Set (or release) the S3 legal hold of the object."""
        self.client.put_object_legal_hold(
            Bucket=self.bucket, Key=key, LegalHold={"Status": "ON" if hold else "OFF"}
        )

    def lifecycle_rules(self) -> list[dict[str, Any]]:
        """The bucket's lifecycle rules (empty when it has none)."""
        try:
            return self.client.get_bucket_lifecycle_configuration(Bucket=self.bucket).get("Rules", [])
        except ClientError as err:
            if error_code(err) != "NoSuchLifecycleConfiguration":
                raise
            return []

    def put_lifecycle_rules(self, rules: list[dict[str, Any]]) -> None:
        """Replace the bucket's lifecycle rules with ``rules``."""
        self.client.put_bucket_lifecycle_configuration(
            Bucket=self.bucket, LifecycleConfiguration={"Rules": rules}
        )

    def versioned(self) -> bool:
        """Whether the bucket keeps object versions (versioning enabled or suspended)."""
        status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        return status in ("Enabled", "Suspended")
