"""Collecting garbage: the day's objects no manifest names (a replaced version, an unfinished publish)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from airflow_provider_vobiz.lake.integrity import list_partition
from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish.errors import S3_ERRORS
from airflow_provider_vobiz.lake.storage import LakeStorage

# The publish protocol's one logger: its lines keep the name they always had.
log = logging.getLogger(__package__)


def collect_garbage(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: str,
    manifest: Manifest | dict[str, Any],
    listed: dict[str, dict[str, Any]],
    older_than: dt.timedelta | None = None,
) -> list[str]:
    """Delete the day's parts and rejects that ``manifest`` does not name, and any ``_staging/`` leftovers.

    Under the day's lease (``older_than=None``) everything unnamed goes: no other publish can commit while we
    hold it (a stalled one fails its lease check before its manifest write). Without the lease (retention
    enforcement), only objects older than ``older_than`` go: no lease lives that long. Returns the keys
    deleted. Never fails the caller: what it cannot delete, the next run does.
    """
    named = Manifest.of(manifest)
    keep = {p.key for p in named.parts} | {named.rejects_key}
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
    except S3_ERRORS:
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


def discard(storage: LakeStorage, keys: list[str]) -> None:
    """Best effort: remove a failed publish's own objects (the next run collects what this misses)."""
    try:
        storage.delete_keys(keys)
    except S3_ERRORS:
        log.warning(
            "Could not remove %d object(s) of the failed publish; the next run will", len(keys), exc_info=True
        )
