"""Publishing a partition: the whole day replaced at once, or not at all.

1. New parts that will replace published ones are uploaded under the run's staging prefix, invisible to
   readers of ``cdr/``; the published parts, manifest and rejects are copied into staging as a backup.
2. New parts are copied from staging to their final keys (parts with no published predecessor are uploaded
   straight there: there is nothing to protect), stale parts of an older, larger run are deleted, the
   rejects are replaced, and the manifest is written last.
3. If anything in step 2 fails, the backup is copied back and keys the run added are deleted, so the
   previous partition and manifest are as they were; then the error is raised. Staging is cleaned up
   (kept only if even the restore failed, and the error says where the backup is).

Unchanged content (same ``content_sha256`` as the published manifest, every part present) is not
rewritten. Changed content appends a ``history`` entry (issue 7's daily re-pull relies on it) and resets
the quality status to pending.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from dataclasses import dataclass
from typing import Any

from airflow_provider_vobiz.lake.manifest import (
    content_sha256,
    read_manifest,
    utc_now_iso,
)
from airflow_provider_vobiz.lake.paths import MANIFEST_NAME, LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.lake.writer import LocalPart

log = logging.getLogger(__name__)

_SINGLE_PUT_MAX = 1 << 30


class PublishError(RuntimeError):
    """Publishing failed; the previous partition was restored (unless the message says otherwise)."""


@dataclass(frozen=True)
class PublishResult:
    manifest: dict[str, Any]
    changed: bool
    restated: bool


def _staging_token() -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def _upload(storage: LakeStorage, path: str, key: str, content_type: str) -> None:
    """Upload a local file: one streamed PUT up to 1 GiB (no multipart reassembly), boto3's managed,
    multipart transfer above."""
    if os.path.getsize(path) <= _SINGLE_PUT_MAX:
        with open(path, "rb") as body:
            storage.client.put_object(Bucket=storage.bucket, Key=key, Body=body, ContentType=content_type)
    else:
        storage.client.upload_file(path, storage.bucket, key, ExtraArgs={"ContentType": content_type})


def publish_partition(
    storage: LakeStorage,
    layout: LakeLayout,
    manifest: dict[str, Any],
    parts: list[LocalPart],
    rejects_path: str | None = None,
) -> PublishResult:
    """Publish ``parts`` as the partition ``manifest`` names and write the manifest.

    :param manifest: the new manifest without ``parts``, ``content_sha256``, ``history`` (filled here).
    :param parts: local part files in order.
    :param rejects_path: a local ``rejects.jsonl`` to put in quarantine, or None when nothing was rejected.
    """
    account_id, call_date = manifest["account_id"], manifest["call_date"]
    prefix = layout.partition_prefix(account_id, call_date)
    manifest_key = layout.manifest_key(account_id, call_date)
    rejects_key = layout.rejects_key(account_id, call_date)
    new_hash = content_sha256(p.sha256 for p in parts)
    new_keys = [layout.part_key(account_id, call_date, p.index) for p in parts]

    previous = read_manifest(storage, layout, account_id, call_date)
    published = [o["Key"] for o in storage.list_objects(prefix)]
    published_parts = [k for k in published if LakeLayout.is_part_key(k)]
    if (
        previous is not None
        and previous.get("content_sha256") == new_hash
        and sorted(published_parts) == sorted(new_keys)
    ):
        log.info("Partition %s is unchanged (content_sha256 %s): nothing rewritten", prefix, new_hash[:12])
        return PublishResult(manifest=previous, changed=False, restated=False)

    restated = previous is not None and previous.get("content_sha256") != new_hash
    manifest = dict(manifest)
    manifest["parts"] = [
        {"key": key, "bytes": p.bytes, "sha256": p.sha256, "rows": p.rows}
        for key, p in zip(new_keys, parts, strict=True)
    ]
    manifest["content_sha256"] = new_hash
    history = list((previous or {}).get("history") or [])
    if restated:
        history.append(
            {
                "replaced_at": utc_now_iso(),
                "old_row_count": previous.get("row_count"),
                "new_row_count": manifest["row_count"],
                "old_content_sha256": previous.get("content_sha256"),
                "new_content_sha256": new_hash,
                "old_extracted_at": previous.get("extracted_at"),
            }
        )
    manifest["history"] = history

    staging = layout.staging_prefix(account_id, call_date, _staging_token())
    backup: dict[str, str] = {}  # final key -> backup key
    added: list[str] = []  # final keys this run created
    had_rejects = storage.exists(rejects_key)
    keep_staging = False
    try:
        try:
            # Parts that replace published ones are uploaded to staging first, so the window in which the
            # partition mixes old and new parts is only as long as a server-side copy.
            _stage(storage, staging, [p for p, k in zip(parts, new_keys, strict=True) if k in published])
            old_keys = [*published_parts, *([manifest_key] if manifest_key in published else [])]
            if had_rejects:
                old_keys.append(rejects_key)
            for i, key in enumerate(old_keys):
                backup_key = staging + f"old/{i:05d}-" + key.rsplit("/", 1)[-1]
                storage.copy(key, backup_key)
                backup[key] = backup_key
        except Exception as err:
            raise PublishError(
                f"staging {layout.s3_uri(prefix)} failed before anything published was touched; the "
                f"previous partition is unchanged: {err}"
            ) from err

        try:
            for p, key in zip(parts, new_keys, strict=True):
                if key in backup:
                    storage.copy(staging + "new/" + p.name, key)
                else:  # a new key: nothing published to protect, so no staging round trip
                    added.append(key)
                    _upload(storage, p.path, key, "application/vnd.apache.parquet")
            if rejects_path:
                if rejects_key not in backup:
                    added.append(rejects_key)
                _upload(storage, rejects_path, rejects_key, "application/x-ndjson")
            elif had_rejects:
                storage.delete_keys([rejects_key])
            stale = sorted(set(published_parts) - set(new_keys))
            if stale:
                storage.delete_keys(stale)
                log.info("Removed %d stale part(s) of an older, larger run", len(stale))
            if manifest_key not in backup:
                added.append(manifest_key)
            storage.put_json(manifest_key, manifest)
        except Exception as err:
            try:
                _restore(storage, backup, added)
            except Exception as restore_err:
                keep_staging = True
                raise PublishError(
                    f"publishing {layout.s3_uri(prefix)} failed ({err}) and restoring the previous "
                    f"partition failed too ({restore_err}); its backup is kept at "
                    f"{layout.s3_uri(staging)}old/"
                ) from err
            raise PublishError(
                f"publishing {layout.s3_uri(prefix)} failed, the previous partition and manifest were "
                f"restored: {err}"
            ) from err
    finally:
        if not keep_staging:
            try:
                storage.delete_keys(o["Key"] for o in storage.list_objects(staging))
            except Exception:  # best effort: staging is invisible to readers
                log.warning("Could not clean staging %s", layout.s3_uri(staging), exc_info=True)

    log.info(
        "Published %s: %d rows in %d part(s), content_sha256 %s%s",
        layout.s3_uri(prefix),
        manifest["row_count"],
        len(parts),
        new_hash[:12],
        " (restated)" if restated else "",
    )
    return PublishResult(manifest=manifest, changed=True, restated=restated)


def _stage(storage: LakeStorage, staging: str, parts: list[LocalPart]) -> None:
    for p in parts:
        _upload(storage, p.path, staging + "new/" + p.name, "application/vnd.apache.parquet")


def _restore(storage: LakeStorage, backup: dict[str, str], added: list[str]) -> None:
    """Put the previous objects back and remove the ones this run created."""
    if added:
        storage.delete_keys(added)
    # The manifest goes back last, after the parts it describes.
    for key in sorted(backup, key=lambda k: k.endswith(MANIFEST_NAME)):
        storage.copy(backup[key], key)
    log.warning("Publishing failed; restored %d previous object(s) of the partition", len(backup))
