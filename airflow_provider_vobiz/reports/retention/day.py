"""One day of the retention window: what the inventory found for it, and the judgement of it.

A day is judged from its manifest and the listing of its partition (sizes and ETags), and in "full" mode from
the re-hashed bytes of its parts: present, missing, failed quality or checksum mismatch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vobiz.lake.integrity import part_problems
from airflow_provider_vobiz.lake.manifest import QUALITY_FAILED, Manifest
from airflow_provider_vobiz.lake.paths import MANIFEST_NAME
from airflow_provider_vobiz.lake.retention import DEFAULT_RETENTION_YEARS, expires_on
from airflow_provider_vobiz.reports.retention.policy import (
    STATUS_CHECKSUM_MISMATCH,
    STATUS_FAILED_QUALITY,
    STATUS_MISSING,
    STATUS_PRESENT,
)
from airflow_provider_vobiz.text_values import int_or_none


@dataclass
class DayRecord:
    """What the inventory found for one day of the window."""

    call_date: dt.date
    status: str = STATUS_MISSING
    rows: int | None = None
    bytes: int | None = None
    parts: int = 0
    hash_check: str = "n/a"
    problems: list[str] = field(default_factory=list)
    quality_status: str | None = None
    reconciliation_matched: bool | None = None
    api_total: int | None = None
    object_lock_mode: str | None = None
    retain_until: str | None = None
    restatements: int = 0
    legal_hold: bool = False
    content_sha256: str | None = None
    #: sha256 of the exact bytes of the day's ``_manifest.json`` as read (what ``verify`` re-checks).
    manifest_sha256: str | None = None
    extracted_at: str | None = None
    expires_on: dt.date | None = None
    manifest_key: str | None = None
    #: The manifest's part keys, in order (what completeness reads; not part of the report).
    part_keys: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_date": self.call_date.isoformat(),
            "status": self.status,
            # Counts are integers, never null: a missing day holds 0 rows and 0 bytes.
            "rows": self.rows or 0,
            "bytes": self.bytes or 0,
            "parts": self.parts,
            "hash_check": self.hash_check,
            "problems": list(self.problems),
            "quality_status": self.quality_status,
            "reconciliation_matched": self.reconciliation_matched,
            "api_total": self.api_total,
            "object_lock_mode": self.object_lock_mode,
            "retain_until": self.retain_until,
            "restatements": self.restatements,
            "legal_hold": self.legal_hold,
            "content_sha256": self.content_sha256,
            "manifest_sha256": self.manifest_sha256,
            "extracted_at": self.extracted_at,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "manifest_key": self.manifest_key,
        }


def assess_day(
    call_date: dt.date,
    manifest: Manifest | Mapping[str, Any] | None,
    listed_sizes: dict[str, int],
    partition_prefix: str,
    years: int = DEFAULT_RETENTION_YEARS,
    rehash: Callable[[str], str] | None = None,
    *,
    listed_etags: dict[str, str | None] | None = None,
    quality: dict[str, Any] | None = None,
    object_lock: dict[str, Any] | None = None,
    legal_hold: bool = False,
    manifest_sha256: str | None = None,
) -> DayRecord:
    """Judge one day from its manifest and the listing of its partition.

    :param manifest: the day's manifest (lake.read.partition_manifest), or its plain JSON object; None: the
        day has no published manifest.
    :param listed_sizes: ``{key: size}`` of every object listed under the partition prefix.
    :param rehash: in "full" mode, a function returning the sha256 of an object's bytes.
    :param listed_etags: ``{key: ETag}`` of the listed objects (compared with the ETags the manifest recorded).
    :param quality: the verdict of the manifest's content (lake.records.read_quality).
    :param object_lock: the day's Object Lock record (lake.records.read_object_lock).
    :param legal_hold: whether the day is under legal hold (lake.records.read_legal_hold).
    :param manifest_sha256: sha256 of the manifest's bytes as read (stated in the report); default: the
        :attr:`Manifest.sha256` of a manifest read from its bytes.
    """
    rec = DayRecord(call_date=call_date, expires_on=expires_on(call_date, years))
    manifest = Manifest.of(manifest)
    stray_parts = sorted(k for k in listed_sizes if k.rsplit("/", 1)[-1].startswith("part-"))
    if manifest is None:
        rec.status = STATUS_MISSING
        if stray_parts:
            rec.problems.append(f"{len(stray_parts)} part file(s) without a published manifest")
        return rec

    rec.manifest_key = partition_prefix + MANIFEST_NAME
    rec.manifest_sha256 = manifest_sha256 or (manifest.sha256 if manifest.raw is not None else None)
    _record_manifest(rec, manifest, quality, object_lock, legal_hold)
    rec.part_keys = manifest.part_keys(partition_prefix)
    rec.bytes = sum(listed_sizes.get(k, 0) for k in rec.part_keys)
    # The same check the quality operator and the publisher run (lake.integrity): size and ETag of each part,
    # its sha256 too in "full" mode; then the manifest's own sums.
    rec.problems = part_problems(manifest, partition_prefix, listed_sizes, listed_etags, rehash)
    rec.problems += _manifest_sum_problems(manifest)
    # Part files no manifest names are what an unfinished publish left: readers who follow the manifest never
    # see them, and the next run of the day (or retention enforcement) collects them. Not a mismatch.
    if rec.problems:
        rec.status = STATUS_CHECKSUM_MISMATCH
        rec.hash_check = "mismatch"
    else:
        rec.hash_check = "ok"
        rec.status = STATUS_FAILED_QUALITY if rec.quality_status == QUALITY_FAILED else STATUS_PRESENT
    return rec


def _record_manifest(
    rec: DayRecord,
    manifest: Manifest,
    quality: dict[str, Any] | None,
    object_lock: dict[str, Any] | None,
    legal_hold: bool,
) -> None:
    """Copy what the manifest and the day's records say into ``rec``."""
    rec.parts = len(manifest.parts)
    rec.rows = manifest.row_count
    rec.content_sha256 = manifest.content_sha256
    rec.extracted_at = manifest.extracted_at
    rec.quality_status = quality.get("status") if quality else None
    rec.reconciliation_matched = manifest.reconciliation.get("matched")
    rec.api_total = int_or_none(manifest.reconciliation.get("api_total"))
    lock = object_lock or {}
    if lock.get("current", True):
        rec.object_lock_mode = lock.get("mode")
        rec.retain_until = lock.get("retain_until")
    # else: the lock was applied to parts since replaced; the new parts are not locked until the next run.
    rec.restatements = len(manifest.history)
    rec.legal_hold = bool(legal_hold)


def _manifest_sum_problems(manifest: Manifest) -> list[str]:
    """Where the manifest disagrees with itself: content_sha256 over the parts' hashes, rows over the parts."""
    problems = []
    has_parts = bool(manifest.parts)
    if has_parts and manifest.content_sha256 and manifest.parts_sha256 != manifest.content_sha256:
        problems.append("content_sha256 does not match the parts' hashes recorded in the manifest")
    if manifest.row_count is None:
        problems.append(f"the manifest's row_count is not an integer: {manifest.data.get('row_count')!r}")
    elif has_parts and manifest.parts_rows != manifest.row_count:
        problems.append(
            f"parts hold {manifest.parts_rows} rows, the manifest's row_count is {manifest.row_count}"
        )
    return problems
