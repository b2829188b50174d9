"""Publishing a partition: one commit point, one writer at a time, and a lake that heals itself.

A day's partition is a set of immutable objects plus one pointer:

- every publish has a ``version`` (``20261201T120000Z-1a2b3c4d``); its parts are written as new objects
  ``part-00000-{version}.parquet`` (with ``If-None-Match: *``, so nothing is ever overwritten) and its
  rejects as ``quarantine/…/rejects-{version}.jsonl``;
- ``_manifest.json`` names the parts of the current version and is written last, conditionally: with
  ``If-None-Match: *`` for the day's first publish and ``If-Match`` on the ETag read at the start for the
  next ones. That single PUT is the commit point: before it a reader who follows the manifest sees the old
  version, after it the new one, whatever instant the writer dies at;
- the replaced manifest's bytes are kept at ``_manifests/{sha256}.json`` (before the commit), so every hash a
  report cites stays re-computable, and each ``history`` entry names it (``old_manifest_sha256``);
- after the commit the old version's parts are deleted, and so is anything an unfinished publish left.

One writer per day: a publisher first takes ``_lease.json`` (created with ``If-None-Match: *``, with an
expiry). A second publisher of the same day waits for it (``lease_wait`` seconds, then a retryable
:class:`PartitionBusyError`); an expired lease, or one its own ``owner`` (the same task, retried after it was
killed) left, is taken over with ``If-Match``. The conditional manifest write backs the lease: a writer that
stalled past its lease and lost it fails with a retryable :class:`PublishConflictError` instead of
overwriting. Of two pulls of a day, the newer one wins: a publish whose ``extracted_at`` (when its pull
began) is older than the published version's changes nothing and says so.

"Unchanged" means more than equal content hashes: the published parts must also still match the manifest
(size and ETag recorded at publish, from one listing). A day whose parts were deleted, truncated or
rewritten is published again (a *repair*, logged and recorded in ``repairs``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from airflow_provider_vobiz.cdr.window import utc_now_iso
from airflow_provider_vobiz.lake.integrity import clean_etag, list_partition, part_problems
from airflow_provider_vobiz.lake.manifest import content_sha256, manifest_bytes, manifest_sha256
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage, PreconditionFailed
from airflow_provider_vobiz.lake.writer import LocalPart

log = logging.getLogger(__name__)

_SINGLE_PUT_MAX = 1 << 30
#: How long a lease protects a publish; a killed writer's lease blocks other runs of the day this long.
DEFAULT_LEASE_SECONDS = 900
#: How long a second publisher of the same day waits for the lease before it fails (retryably).
DEFAULT_LEASE_WAIT = 300
_S3_ERRORS = (ClientError, BotoCoreError)


class PublishError(RuntimeError):
    """Publishing failed before its commit point: the previously published version is unchanged."""


class PartitionBusyError(PublishError):
    """Another run is publishing the same day; retry later (Airflow's task retry does)."""


class PublishConflictError(PublishError):
    """The partition changed under this publish (its lease expired); nothing was committed: retry."""


@dataclass(frozen=True)
class PublishResult:
    manifest: dict[str, Any]
    changed: bool
    restated: bool
    #: A newer pull of the day was already published; this one changed nothing.
    superseded: bool = False
    #: The content was unchanged but the lake did not match the manifest, so the day was written again.
    repaired: bool = False


@dataclass(frozen=True)
class _Published:
    """The current version of a day as read at the start of a publish."""

    manifest: dict[str, Any]
    raw: bytes
    etag: str

    @property
    def sha256(self) -> str:
        return manifest_sha256(self.raw)


def new_version() -> str:
    """A publish's version id: sortable by time, unique by a random suffix."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        ts = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)


def _is_newer(published: dict[str, Any], incoming: dict[str, Any]) -> bool:
    """True when the published version came from a later pull than ``incoming`` (equal: incoming wins)."""
    old, new = _parse_time(published.get("extracted_at")), _parse_time(incoming.get("extracted_at"))
    return old is not None and new is not None and old > new


# -- the lease --------------------------------------------------------------------------------------------
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
            held = _json_or_empty(found[0])
            expires = _parse_time(held.get("expires_at"))
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
    except _S3_ERRORS:
        log.warning("Could not release the lease %s; it expires by itself", lease.key, exc_info=True)


def _json_or_empty(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@contextmanager
def _held(
    storage: LakeStorage, lease_key: str, owner: str, version: str, seconds: float, wait: float, what: str
) -> Iterator[Lease]:
    try:
        lease = acquire_lease(storage, lease_key, owner, version, seconds=seconds, wait=wait, what=what)
    except _S3_ERRORS as err:
        raise PublishError(f"could not take the lease of {what}; nothing was written: {err}") from err
    try:
        yield lease
    finally:
        release_lease(storage, lease)


# -- uploads ----------------------------------------------------------------------------------------------
def _upload_new(storage: LakeStorage, path: str, key: str, content_type: str) -> str:
    """Upload a local file as a new object; returns its ETag. One streamed, conditional PUT up to 1 GiB;
    boto3's managed multipart transfer above (the version in the key keeps it unique)."""
    if os.path.getsize(path) <= _SINGLE_PUT_MAX:
        with open(path, "rb") as body:
            return clean_etag(storage.put_conditional(key, body, content_type=content_type)) or ""
    storage.upload_file(path, key, content_type=content_type)
    return clean_etag((storage.head(key) or {}).get("ETag")) or ""


# -- publish ----------------------------------------------------------------------------------------------
def publish_partition(
    storage: LakeStorage,
    layout: LakeLayout,
    manifest: dict[str, Any],
    parts: list[LocalPart],
    rejects_path: str | None = None,
    *,
    owner: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    lease_wait: float = DEFAULT_LEASE_WAIT,
) -> PublishResult:
    """Publish ``parts`` as the partition ``manifest`` names, committing with one conditional manifest write.

    :param manifest: the new manifest without ``parts``, ``content_sha256``, ``history``, ``version`` (filled
        here); its ``extracted_at`` (when the pull began) decides which of two pulls of the day wins.
    :param parts: local part files in order.
    :param rejects_path: a local ``rejects.jsonl`` to put in quarantine, or None when nothing was rejected.
    :param owner: who publishes (a task's id: its retry takes over the lease a killed try left).
    :param lease_seconds: how long the lease protects this publish.
    :param lease_wait: how long to wait for another publisher of the same day before failing.
    :raises PartitionBusyError: another run held the day for ``lease_wait`` seconds (retryable).
    :raises PublishConflictError: the lease expired and another run published meanwhile (retryable).
    :raises PublishError: S3 failed before the commit; the published version is unchanged.
    """
    account_id, call_date = manifest["account_id"], manifest["call_date"]
    prefix = layout.partition_prefix(account_id, call_date)
    what = layout.s3_uri(prefix)
    version = new_version()
    with _held(
        storage,
        layout.lease_key(account_id, call_date),
        owner or default_owner(),
        version,
        lease_seconds,
        lease_wait,
        what,
    ) as lease:
        try:
            found = storage.get_versioned(layout.manifest_key(account_id, call_date))
            listed = list_partition(storage, prefix)
        except _S3_ERRORS as err:
            raise PublishError(
                f"reading the published state of {what} failed; nothing was written: {err}"
            ) from err
        current = None if found is None else _Published(_json_or_empty(found[0]), found[0], found[1])
        return _publish_locked(storage, layout, manifest, parts, rejects_path, lease, current, listed)


def _publish_locked(
    storage: LakeStorage,
    layout: LakeLayout,
    incoming: dict[str, Any],
    parts: list[LocalPart],
    rejects_path: str | None,
    lease: Lease,
    current: _Published | None,
    listed: dict[str, dict[str, Any]],
) -> PublishResult:
    account_id, call_date = incoming["account_id"], incoming["call_date"]
    prefix = layout.partition_prefix(account_id, call_date)
    what = layout.s3_uri(prefix)
    new_hash = content_sha256(p.sha256 for p in parts)
    previous = current.manifest if current else None
    problems = (
        part_problems(
            previous,
            prefix,
            {k: v["size"] for k, v in listed.items()},
            {k: v["etag"] for k, v in listed.items()},
        )
        if previous is not None
        else []
    )
    if previous is not None and not problems:
        if _is_newer(previous, incoming):
            log.warning(
                "%s already holds a newer pull (extracted_at %s, this pull %s): left as it is",
                what,
                previous.get("extracted_at"),
                incoming.get("extracted_at"),
            )
            collect_garbage(storage, layout, account_id, call_date, previous, listed)
            return PublishResult(manifest=previous, changed=False, restated=False, superseded=True)
        if previous.get("content_sha256") == new_hash:
            log.info(
                "Partition %s is unchanged (content_sha256 %s, parts verified): nothing rewritten",
                what,
                new_hash[:12],
            )
            collect_garbage(storage, layout, account_id, call_date, previous, listed)
            return PublishResult(manifest=previous, changed=False, restated=False)
    if problems:
        log.warning(
            "Partition %s does not match its manifest; publishing it again: %s", what, "; ".join(problems)
        )

    version = lease.version
    restated = previous is not None and previous.get("content_sha256") != new_hash
    repaired = bool(problems) and not restated
    manifest = dict(incoming)
    written: list[str] = []
    try:
        entries = []
        for p in parts:
            key = layout.part_key(account_id, call_date, p.index, version)
            written.append(key)
            etag = _upload_new(storage, p.path, key, "application/vnd.apache.parquet")
            entries.append({"key": key, "bytes": p.bytes, "sha256": p.sha256, "rows": p.rows, "etag": etag})
        rejects = dict(manifest.get("rejects") or {"count": 0})
        rejects["key"] = None
        if rejects_path:
            rejects["key"] = layout.rejects_key(account_id, call_date, version)
            written.append(rejects["key"])
            _upload_new(storage, rejects_path, rejects["key"], "application/x-ndjson")
        manifest.update(version=version, parts=entries, content_sha256=new_hash, rejects=rejects)
        manifest["history"] = list((previous or {}).get("history") or [])
        manifest["repairs"] = list((previous or {}).get("repairs") or [])
        if restated:
            manifest["history"].append(
                {
                    "replaced_at": utc_now_iso(),
                    "old_row_count": previous.get("row_count"),
                    "new_row_count": manifest["row_count"],
                    "old_content_sha256": previous.get("content_sha256"),
                    "new_content_sha256": new_hash,
                    "old_extracted_at": previous.get("extracted_at"),
                    "old_manifest_sha256": current.sha256,
                }
            )
        if repaired:
            manifest["repairs"].append(
                {"repaired_at": utc_now_iso(), "old_manifest_sha256": current.sha256, "problems": problems}
            )
        if current is not None:
            _archive(storage, layout, account_id, call_date, current)
        if not still_held(storage, lease):  # stalled past the lease: another run may be publishing
            raise PreconditionFailed(lease.key)
        # The commit point.
        storage.put_conditional(
            layout.manifest_key(account_id, call_date),
            manifest_bytes(manifest),
            if_match=current.etag if current else None,
            content_type="application/json",
        )
    except PreconditionFailed as err:
        _discard(storage, written)
        raise PublishConflictError(
            f"{what} was published by another run while this one held an expired lease; nothing of this run "
            "was committed. Retry: the newer pull wins."
        ) from err
    except _S3_ERRORS as err:
        _discard(storage, written)
        raise PublishError(
            f"publishing {what} failed before its manifest was written, so the previous version is what "
            f"readers see; this run's objects are removed now or by the next run: {err}"
        ) from err

    collect_garbage(storage, layout, account_id, call_date, manifest, listed)
    log.info(
        "Published %s version %s: %d rows in %d part(s), content_sha256 %s%s",
        what,
        version,
        manifest["row_count"],
        len(parts),
        new_hash[:12],
        " (restated)" if restated else " (repaired)" if repaired else "",
    )
    return PublishResult(manifest=manifest, changed=True, restated=restated, repaired=repaired)


def _archive(
    storage: LakeStorage, layout: LakeLayout, account_id: str, call_date: str, current: _Published
) -> None:
    """Keep the replaced manifest's exact bytes under its sha256 (content-addressed: writing twice is a no-op)."""
    with suppress(PreconditionFailed):
        storage.put_conditional(
            layout.manifest_archive_key(account_id, call_date, current.sha256),
            current.raw,
            content_type="application/json",
        )


def _discard(storage: LakeStorage, keys: list[str]) -> None:
    """Best effort: remove a failed publish's own objects (the next run collects what this misses)."""
    try:
        storage.delete_keys(keys)
    except _S3_ERRORS:
        log.warning(
            "Could not remove %d object(s) of the failed publish; the next run will", len(keys), exc_info=True
        )


# -- garbage ----------------------------------------------------------------------------------------------
def collect_garbage(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: str,
    manifest: dict[str, Any],
    listed: dict[str, dict[str, Any]],
    older_than: dt.timedelta | None = None,
) -> list[str]:
    """Delete the day's parts and rejects that ``manifest`` does not name, and any ``_staging/`` leftovers.

    Under the day's lease (``older_than=None``) everything unnamed goes: no other publish can commit while we
    hold it (a stalled one fails its lease check before its manifest write). Without the lease (retention
    enforcement), only objects older than ``older_than`` go: no lease lives that long. Returns the keys
    deleted. Never fails the caller: what it cannot delete, the next run does.
    """
    keep = {p["key"] for p in manifest.get("parts") or []} | {(manifest.get("rejects") or {}).get("key")}
    cutoff = dt.datetime.now(dt.timezone.utc) - older_than if older_than is not None else None
    try:
        candidates = dict(listed)
        candidates.update(list_partition(storage, layout.quarantine_prefix(account_id, call_date)))
        candidates.update(list_partition(storage, layout.staging_prefix(account_id, call_date)))
        garbage = sorted(
            key
            for key, info in candidates.items()
            if key not in keep
            and _collectable(layout, key)
            and (cutoff is None or (info.get("last_modified") is not None and info["last_modified"] < cutoff))
        )
        if garbage:
            storage.delete_keys(garbage)
            log.info(
                "Collected %d object(s) of %s that no manifest names",
                len(garbage),
                layout.s3_uri(layout.partition_prefix(account_id, call_date)),
            )
        return garbage
    except _S3_ERRORS:
        log.warning(
            "Collecting unpublished objects of %s %s failed; the next run retries",
            account_id,
            call_date,
            exc_info=True,
        )
        return []


def _collectable(layout: LakeLayout, key: str) -> bool:
    """Parts, rejects and staged objects; never the manifest, its archive, the lease or the records."""
    name = key.rsplit("/", 1)[-1]
    return (
        LakeLayout.is_part_key(key)
        or (name.startswith("rejects") and name.endswith(".jsonl"))
        or key.startswith(layout.key("_staging") + "/")
    )
