"""``_manifest.json``: what a published partition holds, where it came from, and its history.

A manifest is a plain JSON object. Keys (docs/lake.md has the whole contract)::

    schema_version      CDR file schema version (cdr.schema.SCHEMA_VERSION)
    account_id, call_date, timezone
    window              {"start": ISO UTC, "end": ISO UTC}: start_time in [start, end)
    row_count           rows over all parts
    version             the publish that wrote it (also in its part names: parts are never overwritten)
    parts               [{"key", "bytes", "sha256", "rows", "etag"}], in part order
    content_sha256      sha256 over the parts' sha256s: equal content, equal hash
    source              {"endpoint", "method", "query"}
    reconciliation      {"api_total", "records_read", "duplicates", "outside_window", "in_window", "matched"}
    rejects             {"count", "key"}
    unknown_fields      {"field": count}  (kept in the ``extra`` column)
    missing_fields      {"field": count}  (documented fields absent from records, stored as null)
    extracted_at        ISO UTC, when the pull began: of two pulls of a day the later one wins
    provider_version
    history             [{"replaced_at", "old_row_count", "new_row_count", "old_content_sha256",
                          "new_content_sha256", "old_extracted_at", "old_manifest_sha256"}]
                        (restatements, oldest first; old_manifest_sha256 is the sha256 of the replaced
                        ``_manifest.json``'s bytes, kept at ``_manifests/{sha256}.json``)
    repairs             [{"repaired_at", "old_manifest_sha256", "problems"}]  (same content, parts rewritten)

A published version's bytes never change. The quality verdict, Object Lock and legal hold are learned
later and live in their own objects (lake.records), never in the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
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


def manifest_sha256(raw: bytes) -> str:
    """The hash a report cites for a manifest: sha256 of the exact bytes of the ``_manifest.json`` object."""
    return hashlib.sha256(raw).hexdigest()


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The stable JSON bytes a manifest is stored as."""
    return json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()


def read_manifest(
    storage: LakeStorage, layout: LakeLayout, account_id: str, call_date: dt.date | str
) -> dict[str, Any] | None:
    """The published manifest of a partition, or None if the day was never published."""
    return storage.get_json(layout.manifest_key(account_id, call_date))


def write_manifest(storage: LakeStorage, layout: LakeLayout, manifest: dict[str, Any]) -> bytes:
    """Write ``manifest`` to its partition unconditionally; returns the bytes written (stable JSON).

    Publishing never calls this (it writes conditionally, lake.publish); tests use it to build fixtures.
    """
    return storage.put_json(layout.manifest_key(manifest["account_id"], manifest["call_date"]), manifest)
