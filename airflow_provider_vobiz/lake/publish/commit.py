"""The publish itself: under the day's lease, decide whether anything changes, upload the new version's
objects, then commit it with the one conditional manifest write and collect what it replaced.

The order of the S3 requests is the protocol (see the package's docstring): parts, rejects, the replaced
manifest's archive, the lease check, the manifest; garbage only after the commit.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from airflow_provider_vobiz.cdr.window import utc_now_iso
from airflow_provider_vobiz.lake.integrity import list_partition, part_problems
from airflow_provider_vobiz.lake.manifest import content_sha256, manifest_bytes
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish.errors import S3_ERRORS, PublishConflictError, PublishError
from airflow_provider_vobiz.lake.publish.garbage import collect_garbage, discard
from airflow_provider_vobiz.lake.publish.lease import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_LEASE_WAIT,
    Lease,
    default_owner,
    held,
    still_held,
)
from airflow_provider_vobiz.lake.publish.state import (
    Published,
    PublishResult,
    is_newer,
    json_or_empty,
    new_version,
)
from airflow_provider_vobiz.lake.publish.upload import upload_new
from airflow_provider_vobiz.lake.storage import LakeStorage, PreconditionFailed
from airflow_provider_vobiz.lake.writer import LocalPart

# The publish protocol's one logger: its lines keep the name they always had.
log = logging.getLogger(__package__)


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
    with held(
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
        except S3_ERRORS as err:
            raise PublishError(
                f"reading the published state of {what} failed; nothing was written: {err}"
            ) from err
        current = None if found is None else Published(json_or_empty(found[0]), found[0], found[1])
        return _publish_locked(storage, layout, manifest, parts, rejects_path, lease, current, listed)


def _publish_locked(
    storage: LakeStorage,
    layout: LakeLayout,
    incoming: dict[str, Any],
    parts: list[LocalPart],
    rejects_path: str | None,
    lease: Lease,
    current: Published | None,
    listed: dict[str, dict[str, Any]],
) -> PublishResult:
    """The publish under the lease, given the published state read after taking it (see the module)."""
    account_id, call_date = incoming["account_id"], incoming["call_date"]
    prefix = layout.partition_prefix(account_id, call_date)
    what = layout.s3_uri(prefix)
    new_hash = content_sha256(p.sha256 for p in parts)
    previous = current.manifest if current else None
    problems = _problems(previous, prefix, listed)
    if previous is not None and not problems:
        kept = _keep_published(storage, layout, incoming, previous, listed, new_hash)
        if kept is not None:
            return kept
    if problems:
        log.warning(
            "Partition %s does not match its manifest; publishing it again: %s", what, "; ".join(problems)
        )

    version = lease.version
    restated = previous is not None and previous.get("content_sha256") != new_hash
    repaired = bool(problems) and not restated
    written: list[str] = []
    try:
        entries, rejects = _upload(storage, layout, incoming, parts, rejects_path, version, written)
        manifest = _new_manifest(
            incoming, version, entries, rejects, new_hash, current, restated, repaired, problems
        )
        _commit(storage, layout, manifest, lease, current)
    except PreconditionFailed as err:
        discard(storage, written)
        raise PublishConflictError(
            f"{what} was published by another run while this one held an expired lease; nothing of this run "
            "was committed. Retry: the newer pull wins."
        ) from err
    except S3_ERRORS as err:
        discard(storage, written)
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


def _problems(previous: dict[str, Any] | None, prefix: str, listed: dict[str, dict[str, Any]]) -> list[str]:
    """How the published parts, as listed, differ from the published manifest (none: nothing published)."""
    if previous is None:
        return []
    return part_problems(
        previous,
        prefix,
        {k: v["size"] for k, v in listed.items()},
        {k: v["etag"] for k, v in listed.items()},
    )


def _keep_published(
    storage: LakeStorage,
    layout: LakeLayout,
    incoming: dict[str, Any],
    previous: dict[str, Any],
    listed: dict[str, dict[str, Any]],
    new_hash: str,
) -> PublishResult | None:
    """The result when the intact published version stays (a newer pull, or the same content), else None."""
    account_id, call_date = incoming["account_id"], incoming["call_date"]
    what = layout.s3_uri(layout.partition_prefix(account_id, call_date))
    if is_newer(previous, incoming):
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
    return None


def _upload(
    storage: LakeStorage,
    layout: LakeLayout,
    incoming: dict[str, Any],
    parts: list[LocalPart],
    rejects_path: str | None,
    version: str,
    written: list[str],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Upload the version's parts, then its rejects; return the manifest's part entries and ``rejects``.

    :param written: each key is appended before its upload, so a failure can discard what got through.
    """
    account_id, call_date = incoming["account_id"], incoming["call_date"]
    entries = []
    for p in parts:
        key = layout.part_key(account_id, call_date, p.index, version)
        written.append(key)
        etag = upload_new(storage, p.path, key, "application/vnd.apache.parquet")
        entries.append({"key": key, "bytes": p.bytes, "sha256": p.sha256, "rows": p.rows, "etag": etag})
    rejects = dict(incoming.get("rejects") or {"count": 0})
    rejects["key"] = None
    if rejects_path:
        rejects["key"] = layout.rejects_key(account_id, call_date, version)
        written.append(rejects["key"])
        upload_new(storage, rejects_path, rejects["key"], "application/x-ndjson")
    return entries, rejects


def _new_manifest(
    incoming: dict[str, Any],
    version: str,
    entries: list[dict[str, Any]],
    rejects: dict[str, Any],
    new_hash: str,
    current: Published | None,
    restated: bool,
    repaired: bool,
    problems: list[str],
) -> dict[str, Any]:
    """The new version's manifest: ``incoming`` with its parts, and the history and repairs carried over."""
    previous = current.manifest if current else None
    manifest = dict(incoming)
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
    return manifest


def _commit(
    storage: LakeStorage,
    layout: LakeLayout,
    manifest: dict[str, Any],
    lease: Lease,
    current: Published | None,
) -> None:
    """Archive the replaced manifest, check the lease is still ours, and write the manifest: the commit point.

    :raises PreconditionFailed: the lease was lost, or the manifest changed since it was read.
    """
    account_id, call_date = manifest["account_id"], manifest["call_date"]
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


def _archive(
    storage: LakeStorage, layout: LakeLayout, account_id: str, call_date: str, current: Published
) -> None:
    """Keep the replaced manifest's exact bytes under its sha256 (content-addressed: writing twice is a no-op)."""
    with suppress(PreconditionFailed):
        storage.put_conditional(
            layout.manifest_archive_key(account_id, call_date, current.sha256),
            current.raw,
            content_type="application/json",
        )
