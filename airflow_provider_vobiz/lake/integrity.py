"""Do the objects in the lake match the manifest? The one check publish, quality and retention share.

The manifest records each part's size, sha256 and the ETag S3 returned when the part was written. A
listing of the partition (one request for the whole day) gives every object's size and ETag, so a deleted,
truncated or rewritten part is found without reading it; ``verify="full"`` also re-reads each part and
compares its sha256 (what a byte flip that keeps the size and a forged ETag cannot survive).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from airflow_provider_vobiz.lake.manifest import Manifest

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

VERIFY_MODES = ("manifest", "full")


class PartitionIntegrityError(RuntimeError):
    """A published partition's objects do not match its manifest (the message names partition and parts)."""

    def __init__(self, partition_uri: str, problems: list[str]) -> None:
        self.partition_uri = partition_uri
        self.problems = problems
        super().__init__(
            f"partition {partition_uri} does not match its manifest: {'; '.join(problems)}. A re-run of the "
            "ingest for this day repairs it (it publishes the day again)."
        )


def clean_etag(etag: str | None) -> str | None:
    """S3 quotes ETags (``"abc"``); the manifest records them bare."""
    return etag.strip('"') if etag else None


def sha256_of(storage: LakeStorage, key: str) -> str:
    """sha256 of an object's bytes, streamed."""
    digest = hashlib.sha256()
    for chunk in storage.iter_chunks(key):
        digest.update(chunk)
    return digest.hexdigest()


def list_partition(storage: LakeStorage, prefix: str) -> dict[str, dict[str, Any]]:
    """``{key: {"size", "etag", "last_modified"}}`` of every object under ``prefix`` (one paginated listing)."""
    return {
        o["Key"]: {
            "size": int(o["Size"]),
            "etag": clean_etag(o.get("ETag")),
            "last_modified": o.get("LastModified"),
        }
        for o in storage.list_objects(prefix)
    }


def part_problems(
    manifest: Manifest | dict[str, Any],
    partition_prefix: str,
    sizes: Mapping[str, int],
    etags: Mapping[str, str | None] | None = None,
    rehash: Callable[[str], str] | None = None,
) -> list[str]:
    """What is wrong with the parts ``manifest`` names, given a listing of the partition.

    :param sizes: ``{key: size}`` of the listed objects.
    :param etags: ``{key: etag}`` of the listed objects (compared where the manifest recorded one).
    :param rehash: returns the sha256 of an object's bytes ("full" verification); None skips it.
    """
    problems: list[str] = []
    for part in Manifest.of(manifest).parts:
        key, name = part.full_key(partition_prefix), part.name
        size = sizes.get(key)
        if size is None:
            problems.append(f"part {name} is in the manifest but not in the lake")
            continue
        if part.size is not None and part.size != size:
            problems.append(f"part {name} has {size} bytes, the manifest records {part.size}")
            continue
        recorded = part.etag
        if recorded and etags is not None and etags.get(key) and etags[key] != recorded:
            problems.append(f"part {name} has ETag {etags[key]}, the manifest records {recorded}")
            continue
        if rehash is not None and rehash(key) != part.sha256:
            problems.append(f"part {name} sha256 differs from the manifest")
    return problems


def verify_partition(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    manifest: Manifest | dict[str, Any],
    verify: str = "manifest",
) -> list[str]:
    """List the partition and compare its parts with ``manifest``; returns the problems (empty: intact).

    :param verify: ``"manifest"`` (size and ETag of each part) or ``"full"`` (also re-hash every part).
    """
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {VERIFY_MODES}, got {verify!r}")
    prefix = layout.partition_prefix(account_id, call_date)
    try:
        listed = list_partition(storage, prefix)
        rehash = (lambda key: sha256_of(storage, key)) if verify == "full" else None
        return part_problems(
            manifest,
            prefix,
            {k: v["size"] for k, v in listed.items()},
            {k: v["etag"] for k, v in listed.items()},
            rehash,
        )
    except (ClientError, BotoCoreError) as err:
        raise RuntimeError(
            f"could not check partition {layout.s3_uri(prefix)} against its manifest: {err}"
        ) from err


def check_partition(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    manifest: Manifest | dict[str, Any],
    verify: str = "manifest",
) -> None:
    """Raise :class:`PartitionIntegrityError` naming the partition and its parts when they do not match."""
    problems = verify_partition(storage, layout, account_id, call_date, manifest, verify)
    if problems:
        raise PartitionIntegrityError(layout.s3_uri(layout.partition_prefix(account_id, call_date)), problems)
