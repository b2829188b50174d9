"""What is learned about a published partition after it was published, kept beside it, never in it.

A manifest version is immutable: the sha256 of its bytes is what reports cite, so it must still match next
year. Facts that come later live in their own small JSON objects, each tied to the content (or the parts)
it is about, so a restatement makes an old record stale instead of wrong:

- the quality verdict (``quality/…/verdict.json``), valid while its ``content_sha256`` is the manifest's;
- the Object Lock record (``cdr/…/_object_lock.json``), valid while its ``part_keys`` are the manifest's;
- the legal hold (``cdr/…/_legal_hold.json``), which belongs to the day, whatever its version.

Readers go through :func:`read_quality`, :func:`read_object_lock` and :func:`read_legal_hold`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.window import utc_now_iso
from airflow_provider_vobiz.lake.manifest import QUALITY_PENDING, QUALITY_STATUSES, Manifest
from airflow_provider_vobiz.lake.read import partition_manifest

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage


def part_keys_of(manifest: Manifest | dict[str, Any], partition_prefix: str) -> list[str]:
    """The full keys of the parts a manifest names, in order (:meth:`Manifest.part_keys`)."""
    return Manifest.of(manifest).part_keys(partition_prefix)


# -- quality ----------------------------------------------------------------------------------------------
def quality_for(manifest: Manifest | dict[str, Any] | None, verdict: dict[str, Any] | None) -> dict[str, Any]:
    """The verdict if it judged ``manifest``'s content, else ``{"status": "pending"}`` (:meth:`Manifest.quality`)."""
    found = Manifest.of(manifest)
    return {"status": QUALITY_PENDING} if found is None else found.quality(verdict)


def read_quality(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    manifest: Manifest | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The quality verdict of the partition's current content (``pending`` when none judged it).

    :param manifest: the manifest already read, to spare a GET (None: read it).
    """
    if manifest is None:
        manifest = partition_manifest(storage, layout, account_id, call_date)
    return quality_for(manifest, storage.get_json(layout.verdict_key(account_id, call_date)))


def write_quality(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    quality: dict[str, Any],
) -> dict[str, Any]:
    """Record a verdict (it must carry the ``content_sha256`` it judged); returns it."""
    if quality.get("status") not in QUALITY_STATUSES:
        raise ValueError(f"quality status must be one of {QUALITY_STATUSES}, got {quality.get('status')!r}")
    if not quality.get("content_sha256"):
        raise ValueError("a quality verdict must name the content_sha256 it judged")
    storage.put_json(layout.verdict_key(account_id, call_date), quality)
    return quality


# -- Object Lock ------------------------------------------------------------------------------------------
def read_object_lock(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    manifest: Manifest | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Object Lock record of the day; ``current`` says whether it covers the manifest's parts.

    Returns ``{}`` when no lock was ever recorded.
    """
    record = storage.get_json(layout.object_lock_key(account_id, call_date))
    if not isinstance(record, dict):
        return {}
    if manifest is None:
        manifest = partition_manifest(storage, layout, account_id, call_date)
    found = Manifest.of(manifest) or Manifest({})
    keys = found.part_keys(layout.partition_prefix(account_id, call_date))
    return {**record, "current": record.get("part_keys") == keys}


def write_object_lock(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    record: dict[str, Any],
) -> None:
    storage.put_json(
        layout.object_lock_key(account_id, call_date), {k: v for k, v in record.items() if k != "current"}
    )


# -- legal hold -------------------------------------------------------------------------------------------
def read_legal_hold(
    storage: LakeStorage, layout: LakeLayout, account_id: str, call_date: dt.date | str
) -> dict[str, Any]:
    """``{"hold": bool, "reason", "set_at"}`` of the day (``{"hold": False}`` when never set)."""
    record = storage.get_json(layout.legal_hold_key(account_id, call_date))
    return record if isinstance(record, dict) else {"hold": False}


def write_legal_hold(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    hold: bool,
    reason: str,
) -> dict[str, Any]:
    record = {"hold": bool(hold), "reason": reason, "set_at": utc_now_iso()}
    storage.put_json(layout.legal_hold_key(account_id, call_date), record)
    return record
