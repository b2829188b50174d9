"""``_manifest.json``: what a published partition holds, where it came from, and its history.

A manifest is a plain JSON object. Keys (DESIGN §4)::

    schema_version      CDR file schema version (cdr.schema.SCHEMA_VERSION)
    account_id, call_date, timezone
    window              {"start": ISO UTC, "end": ISO UTC}: start_time in [start, end)
    row_count           rows over all parts
    parts               [{"key", "bytes", "sha256", "rows"}], in part order
    content_sha256      sha256 over the parts' sha256s: equal content, equal hash
    source              {"endpoint", "method", "query"}
    reconciliation      {"api_total", "records_read", "duplicates", "outside_window", "in_window", "matched"}
    rejects             {"count", "key"}
    unknown_fields      {"field": count}  (kept in the ``extra`` column)
    missing_fields      {"field": count}  (documented fields absent from records, stored as null)
    quality             {"status": "pending" | "passed" | "warning" | "failed", ...}
    extracted_at        ISO UTC
    provider_version
    history             [{"replaced_at", "old_row_count", "new_row_count", "old_content_sha256",
                          "new_content_sha256", "old_extracted_at"}]  (restatements, oldest first)
    legal_hold          bool (retention enforcement never deletes a day under hold)
    object_lock         {"mode", "retain_until"} or null
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

QUALITY_PENDING = "pending"
QUALITY_PASSED = "passed"
QUALITY_WARNING = "warning"
QUALITY_FAILED = "failed"
QUALITY_STATUSES = (QUALITY_PENDING, QUALITY_PASSED, QUALITY_WARNING, QUALITY_FAILED)


def content_sha256(part_hashes: Iterable[str]) -> str:
    """Hash of a partition's content: sha256 over its parts' sha256s, in order."""
    digest = hashlib.sha256()
    for h in part_hashes:
        digest.update(h.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def utc_now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_manifest(
    storage: LakeStorage, layout: LakeLayout, account_id: str, call_date: dt.date | str
) -> dict[str, Any] | None:
    """The published manifest of a partition, or None if the day was never published."""
    return storage.get_json(layout.manifest_key(account_id, call_date))


def write_manifest(storage: LakeStorage, layout: LakeLayout, manifest: dict[str, Any]) -> bytes:
    """Write ``manifest`` to its partition; returns the bytes written (stable JSON)."""
    return storage.put_json(layout.manifest_key(manifest["account_id"], manifest["call_date"]), manifest)


def update_quality(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    quality: dict[str, Any],
) -> dict[str, Any]:
    """Record a quality result in the partition's manifest and return the updated manifest."""
    if quality.get("status") not in QUALITY_STATUSES:
        raise ValueError(f"quality status must be one of {QUALITY_STATUSES}, got {quality.get('status')!r}")
    manifest = read_manifest(storage, layout, account_id, call_date)
    if manifest is None:
        raise FileNotFoundError(
            f"no manifest at s3://{storage.bucket}/{layout.manifest_key(account_id, call_date)}: "
            "the partition was never published"
        )
    manifest["quality"] = quality
    write_manifest(storage, layout, manifest)
    return manifest
