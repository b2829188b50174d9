"""Reading the lake: the one reader of manifests, of the parts they name, and of the CDR dataset.

Every read is *manifest-true*: it follows ``_manifest.json`` and reads exactly the parts it names, so it
sees each day's current version whole, never the parts of a publish in flight, an unfinished one, or the
old version's parts in the instant before they are deleted (docs/lake.md, "Publish protocol").

- :func:`partition_manifest` / :func:`partition_manifests`: a day's manifest (or many days', in threads) as
  a :class:`~airflow_provider_vobiz.lake.manifest.Manifest`, with the sha256 of the bytes read;
- :func:`manifest_days`: the days of an account that have a manifest (one listing);
- :func:`published_part_keys`: the keys of the parts the current manifests name;
- :func:`read_columns` / :func:`partition_table`: the rows of some parts, or of a day;
- :func:`cdr_dataset`: the published CDRs as a pyarrow dataset, ``account_id`` (string) and ``call_date``
  (date32) typed from the Hive path. DuckDB reads it in-process (``duckdb.sql("... FROM cdr")``) with
  projection and partition pruning pushed down: DuckDB's own ``s3://`` reader needs the httpfs extension,
  which cannot be installed offline.

Pass ``layout.tokenised()`` to read the tokenised zone the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

import pyarrow as pa
import pyarrow.dataset as pads

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.paths import MANIFEST_NAME

if TYPE_CHECKING:
    import pyarrow.fs as pafs

    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

#: ``account_id=…/call_date=…/`` typed: call_date is a date, not the string a guess would give.
PARTITIONING = pads.partitioning(
    pa.schema([pa.field("account_id", pa.string()), pa.field("call_date", pa.date32())]), flavor="hive"
)
DATASET_SCHEMA = FILE_SCHEMA.append(PARTITIONING.schema.field("account_id")).append(
    PARTITIONING.schema.field("call_date")
)
DEFAULT_WORKERS = 8

Day = TypeVar("Day", dt.date, str)


# -- manifests --------------------------------------------------------------------------------------------
def manifest_at(storage: LakeStorage, key: str) -> Manifest | None:
    """The manifest stored at ``key`` (its exact bytes kept), or None when there is none."""
    raw = storage.get_bytes_or_none(key)
    return None if raw is None else Manifest.from_json(raw)


def partition_manifest(
    storage: LakeStorage, layout: LakeLayout, account_id: str, call_date: dt.date | str
) -> Manifest | None:
    """The published manifest of a day, or None if the day was never published."""
    return manifest_at(storage, layout.manifest_key(account_id, call_date))


def partition_manifests(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    days: Iterable[Day],
    max_workers: int = DEFAULT_WORKERS,
) -> dict[Day, Manifest | None]:
    """``{day: manifest or None}`` of many days, read in ``max_workers`` threads (keys as given)."""
    days = list(days)
    if not days:
        return {}
    storage.connect()
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        found = pool.map(lambda d: partition_manifest(storage, layout, account_id, d), days)
        return dict(zip(days, found, strict=True))


def manifest_days(storage: LakeStorage, layout: LakeLayout, account_id: str) -> list[dt.date]:
    """The days of ``account_id`` that have a published manifest, in order (one listing of the account)."""
    days = set()
    for obj in storage.list_objects(layout.account_prefix(account_id)):
        if obj["Key"].rsplit("/", 1)[-1] == MANIFEST_NAME:
            parsed = layout.parse_partition(obj["Key"])
            if parsed:
                days.add(dt.date.fromisoformat(parsed[1]))
    return sorted(days)


def published_part_keys(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str | None = None,
    days: Iterable[dt.date | str] | None = None,
    max_workers: int = DEFAULT_WORKERS,
) -> list[str]:
    """The keys of the parts the current manifests name (of one account, of some days, or of the lake)."""
    if account_id is not None and days is not None:
        manifest_keys = [layout.manifest_key(account_id, d) for d in days]
    else:
        root = layout.account_prefix(account_id) if account_id else layout.cdr_root
        manifest_keys = [
            o["Key"] for o in storage.list_objects(root) if o["Key"].rsplit("/", 1)[-1] == MANIFEST_NAME
        ]
    storage.connect()
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        manifests = list(pool.map(lambda k: manifest_at(storage, k), manifest_keys))
    keys: list[str] = []
    for key, manifest in zip(manifest_keys, manifests, strict=True):
        if manifest is not None:
            keys.extend(manifest.part_keys(key[: -len(MANIFEST_NAME)]))
    return sorted(keys)


# -- rows -------------------------------------------------------------------------------------------------
def read_columns(storage: LakeStorage, keys: Sequence[str], columns: Iterable[str] | None = None) -> pa.Table:
    """The rows of the parts at ``keys``, in order, only ``columns`` (None: all) of the file schema.

    Names that are not columns of the file schema are left out (a check that needs them fails on its own).
    """
    names = list(FILE_SCHEMA.names) if columns is None else [c for c in columns if c in FILE_SCHEMA.names]
    schema = pa.schema([FILE_SCHEMA.field(c) for c in names])
    if not keys:
        return schema.empty_table()
    # Coalesce each row group's projected column chunks into a few large ranged GETs instead of one
    # request per chunk (15 columns x 8 row groups = 120 GETs for a 1M-call day): S3 has tens of ms to
    # first byte per request, and moto reads the whole object for every ranged GET. The
    # 1 MiB holes read in passing cost less than the round trips they save (1.4 s instead of 3.5-5.9 s).
    scan = pads.ParquetFragmentScanOptions(
        pre_buffer=True, cache_options=pa.CacheOptions(hole_size_limit=1 << 20, range_size_limit=64 << 20)
    )
    dataset = pads.dataset(
        [storage.path(k) for k in keys],
        format=pads.ParquetFileFormat(default_fragment_scan_options=scan),
        filesystem=storage.filesystem,
        schema=schema,
    )
    return dataset.to_table(columns=names)


def iter_row_groups(storage: LakeStorage, keys: Iterable[str]) -> Iterator[pa.Table]:
    """The rows of the parts at ``keys``, in order, one row group at a time in the file schema: memory is
    bounded by a row group, for a reader that rewrites a whole day (the tokenised zone)."""
    import pyarrow.parquet as pq

    for key in keys:
        with storage.filesystem.open_input_file(storage.path(key)) as fh:
            parquet = pq.ParquetFile(fh)
            for group in range(parquet.num_row_groups):
                yield parquet.read_row_group(group).cast(FILE_SCHEMA)


def partition_table(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    columns: Iterable[str] | None = None,
    manifest: Manifest | None = None,
) -> pa.Table | None:
    """A published day's rows (the parts its manifest names, in order), or None if it was never published.

    :param columns: only these columns of the file schema (None: all).
    :param manifest: the day's manifest already read, to spare a GET.
    """
    if manifest is None:
        manifest = partition_manifest(storage, layout, account_id, call_date)
    if manifest is None:
        return None
    prefix = layout.partition_prefix(account_id, call_date)
    return read_columns(storage, manifest.part_keys(prefix), columns)


# -- the dataset ------------------------------------------------------------------------------------------
def cdr_dataset(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str | None = None,
    days: Iterable[dt.date | str] | None = None,
    *,
    dictionary_columns: Sequence[str] = (),
) -> pads.Dataset:
    """The published CDRs: exactly the parts the manifests name, with ``account_id`` and ``call_date``.

    :param account_id: only this account (None: every account of the lake).
    :param days: only these days of ``account_id`` (None: every published day).
    :param dictionary_columns: string columns to read dictionary-encoded (few distinct values: cheaper to
        decode and to hand to DuckDB).
    """
    paths = [storage.path(k) for k in published_part_keys(storage, layout, account_id, days)]
    return parts_dataset(
        storage.filesystem, storage.path(layout.cdr_root), paths, dictionary_columns=dictionary_columns
    )


def parts_dataset(
    filesystem: pafs.FileSystem,
    base_dir: str,
    paths: Sequence[str],
    *,
    dictionary_columns: Sequence[str] = (),
) -> pads.Dataset:
    """A dataset over exactly these part files, ``account_id`` and ``call_date`` (a date) from their Hive keys.

    For a caller that already holds the manifests it cites (a report), so the parts read are the ones it
    names; :func:`cdr_dataset` finds them from the manifests.

    :param filesystem: the pyarrow filesystem the paths are on.
    :param base_dir: the ``cdr/`` folder the Hive keys start under (``bucket/…/cdr``).
    :param paths: the part files (``bucket/key``); none: a dataset of no files, with the same schema.
    :param dictionary_columns: string columns to read dictionary-encoded (few distinct values: cheaper to
        decode and to hand to DuckDB).
    """
    schema = DATASET_SCHEMA
    fmt = pads.ParquetFileFormat()
    if dictionary_columns:
        wanted = set(dictionary_columns)
        fmt = pads.ParquetFileFormat(read_options=pads.ParquetReadOptions(dictionary_columns=wanted))
        schema = pa.schema(
            [pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in wanted else f for f in schema]
        )
    return pads.dataset(
        list(paths),
        filesystem=filesystem,
        format=fmt,
        partitioning=PARTITIONING,
        partition_base_dir=base_dir.rstrip("/"),
        schema=schema,
    )
