"""The CDR dataset as readers see it: the parts the manifests name, partition keys typed from the path.

DuckDB reads it in-process (``duckdb.sql("... FROM cdr")`` with ``cdr`` a Python variable, or
``con.register``), with projection and partition pruning pushed down. This is how local tests and the demo
query S3: DuckDB's own ``s3://`` reader needs the httpfs extension, which cannot be installed offline.

The read is *manifest-true*: it lists the ``_manifest.json`` objects and reads exactly the parts each names,
so it sees each day's current version whole, never the parts of a publish in flight, an unfinished one,
or the old version's parts in the instant before they are deleted (docs/lake.md, "Publish protocol").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.dataset as pads

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake.paths import MANIFEST_NAME
from airflow_provider_vobiz.lake.records import part_keys_of

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

#: ``account_id=…/call_date=…/`` typed: call_date is a date, not the string a guess would give.
PARTITIONING = pads.partitioning(
    pa.schema([pa.field("account_id", pa.string()), pa.field("call_date", pa.date32())]), flavor="hive"
)
DATASET_SCHEMA = FILE_SCHEMA.append(PARTITIONING.schema.field("account_id")).append(
    PARTITIONING.schema.field("call_date")
)


def published_part_keys(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str | None = None,
    days: Iterable[dt.date | str] | None = None,
    max_workers: int = 8,
) -> list[str]:
    """The keys of the parts the current manifests name (of one account, of some days, or of the lake)."""
    if account_id is not None and days is not None:
        manifest_keys = [layout.manifest_key(account_id, d) for d in days]
    else:
        root = layout.account_prefix(account_id) if account_id else layout.cdr_root
        manifest_keys = [
            o["Key"] for o in storage.list_objects(root) if o["Key"].rsplit("/", 1)[-1] == MANIFEST_NAME
        ]
    _ = storage.client  # build the client once, before the threads share it
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        manifests = list(pool.map(storage.get_json, manifest_keys))
    keys: list[str] = []
    for key, manifest in zip(manifest_keys, manifests, strict=True):
        if manifest is not None:
            keys.extend(part_keys_of(manifest, key[: -len(MANIFEST_NAME)]))
    return sorted(keys)


def cdr_dataset(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str | None = None,
    days: Iterable[dt.date | str] | None = None,
) -> pads.Dataset:
    """The published CDRs: exactly the parts the manifests name.

    :param account_id: only this account (None: every account of the lake).
    :param days: only these days of ``account_id`` (None: every published day).
    """
    paths = [storage.path(k) for k in published_part_keys(storage, layout, account_id, days)]
    return pads.dataset(
        paths,
        filesystem=storage.filesystem,
        format="parquet",
        partitioning=PARTITIONING,
        partition_base_dir=storage.path(layout.cdr_root),
        schema=DATASET_SCHEMA,
    )
