"""One writer per day: the partition's lease (``_lease.json``), taken with conditional writes.

A publisher first takes ``_lease.json`` (created with ``If-None-Match: *``, with an expiry). A second publisher
of the same day waits for it (``lease_wait`` seconds, then a retryable :class:`PartitionBusyError`); an expired
lease, or one its own ``owner`` (the same task, retried after it was killed) left, is taken over with
``If-Match``. Before its commit a publisher checks that the lease is still the one it wrote.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from airflow_provider_vobiz.lake.manifest import manifest_bytes
from airflow_provider_vobiz.lake.publish.errors import S3_ERRORS, PartitionBusyError, PublishError
from airflow_provider_vobiz.lake.publish.state import json_or_empty, parse_time
from airflow_provider_vobiz.lake.storage import LakeStorage, PreconditionFailed

# The publish protocol's one logger: its lines keep the name they always had.
log = logging.getLogger(__package__)

#: How long a lease protects a publish; a killed writer's lease blocks other runs of the day this long.
DEFAULT_LEASE_SECONDS = 900
#: How long a second publisher of the same day waits for the lease before it fails (retryably).
DEFAULT_LEASE_WAIT = 300


def default_owner() -> str:
    """An owner no other process shares (a task passes its own id so that its retry can take over)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Lease:
    key: str
    owner: str
    version: str
    etag: str


def _lease_body(owner: str, version: str, seconds: float) -> bytes:
    now = dt.datetime.now(dt.timezone.utc)
    return manifest_bytes(
        {
            "owner": owner,
            "version": version,
            "acquired_at": now.isoformat(),
            "expires_at": (now + dt.timedelta(seconds=seconds)).isoformat(),
        }
    )


def acquire_lease(
    storage: LakeStorage,
    key: str,
    owner: str,
    version: str,
    *,
    seconds: float = DEFAULT_LEASE_SECONDS,
    wait: float = DEFAULT_LEASE_WAIT,
    what: str = "",
) -> Lease:
    """Take the lease at ``key``: create it, or take over an expired one or one ``owner`` left behind.

    :raises PartitionBusyError: another owner held a live lease for ``wait`` seconds.
    """
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            etag = storage.put_conditional(
                key, _lease_body(owner, version, seconds), content_type="application/json"
            )
            return Lease(key, owner, version, etag)
        except PreconditionFailed:
            pass
        found = storage.get_versioned(key)
        if found is not None:
            held = json_or_empty(found[0])
            expires = parse_time(held.get("expires_at"))
            expired = expires is None or expires <= dt.datetime.now(dt.timezone.utc)
            if expired or held.get("owner") == owner:
                try:
                    etag = storage.put_conditional(
                        key,
                        _lease_body(owner, version, seconds),
                        if_match=found[1],
                        content_type="application/json",
                    )
                except PreconditionFailed:
                    continue  # someone else took it first: look again
                log.warning(
                    "Took over the lease of %s from %s (%s)",
                    what or key,
                    held.get("owner"),
                    "expired" if expired else "the same task, retried",
                )
                return Lease(key, owner, version, etag)
            if time.monotonic() >= deadline:
                raise PartitionBusyError(
                    f"{what or key} is being published by {held.get('owner')!r} (since {held.get('acquired_at')}, "
                    f"lease until {held.get('expires_at')}); waited {wait:.0f}s. Nothing was written; retry later."
                )
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 2.0)


def still_held(storage: LakeStorage, lease: Lease) -> bool:
    """Whether the lease object is still the one this publisher wrote (the fence before a commit)."""
    found = storage.get_versioned(lease.key)
    return found is not None and found[1] == lease.etag


def release_lease(storage: LakeStorage, lease: Lease) -> None:
    """Delete the lease if it is still ours (best effort: an expiry frees it anyway)."""
    try:
        storage.delete_conditional(lease.key, lease.etag)
    except S3_ERRORS:
        log.warning("Could not release the lease %s; it expires by itself", lease.key, exc_info=True)


@contextmanager
def held(
    storage: LakeStorage, lease_key: str, owner: str, version: str, seconds: float, wait: float, what: str
) -> Iterator[Lease]:
    """The day's lease for the body of the block, released after it (a failure to take it is a PublishError)."""
    try:
        lease = acquire_lease(storage, lease_key, owner, version, seconds=seconds, wait=wait, what=what)
    except S3_ERRORS as err:
        raise PublishError(f"could not take the lease of {what}; nothing was written: {err}") from err
    try:
        yield lease
    finally:
        release_lease(storage, lease)
