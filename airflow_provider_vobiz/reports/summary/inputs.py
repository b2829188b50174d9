"""What the summary report reads from the lake: each day's manifest, quality verdict and part files.

:func:`collect_inputs` reads each day's ``_manifest.json`` (the inputs an auditor needs: hashes, quality,
rejects, reconciliation, restatements) and lists its parts; days without a manifest are *missing*.
:func:`open_dataset` builds a ``pyarrow.dataset`` over exactly those part files (partition pruning by
construction) on the lake's filesystem.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake.manifest import manifest_sha256
from airflow_provider_vobiz.lake.paths import MANIFEST_NAME, LakeLayout
from airflow_provider_vobiz.lake.records import quality_for

if TYPE_CHECKING:
    import datetime as dt

    import pyarrow.dataset as pads
    import pyarrow.fs as pafs


@dataclass
class DayInput:
    call_date: str
    manifest: dict[str, Any] | None
    manifest_sha256: str | None
    part_paths: list[str]
    #: The verdict of the manifest's content (lake.records; ``pending`` when none judged it).
    quality: dict[str, Any] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.manifest is not None


def _read_bytes(fs: pafs.FileSystem, path: str) -> bytes | None:
    import pyarrow.fs as pafs

    info = fs.get_file_info(path)
    if info.type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as f:
        return f.read()


def collect_inputs(
    fs: pafs.FileSystem, layout: LakeLayout, account_id: str, days: Sequence[dt.date]
) -> list[DayInput]:
    """Each day's manifest (and its sha256) and the part files it lists; a day with no manifest is missing.

    Paths are ``bucket/key`` as pyarrow's filesystems expect them.
    """
    import pyarrow.fs as pafs

    out = []
    for day in days:
        prefix = layout.partition_prefix(account_id, day)
        raw = _read_bytes(fs, f"{layout.bucket}/{prefix}{MANIFEST_NAME}")
        if raw is None:
            out.append(DayInput(day.isoformat(), None, None, []))
            continue
        manifest = json.loads(raw)
        listed = manifest.get("parts")
        if isinstance(listed, list):
            # The manifest's parts are the partition's content (their hashes make content_sha256).
            parts = []
            for part in listed:
                key = str(part["key"])
                key = key if "/" in key else prefix + key
                parts.append(f"{layout.bucket}/{key}")
        else:  # a manifest without a parts list: every part file under the prefix
            found = fs.get_file_info(pafs.FileSelector(f"{layout.bucket}/{prefix}", allow_not_found=True))
            parts = sorted(
                i.path for i in found if i.type == pafs.FileType.File and LakeLayout.is_part_key(i.path)
            )
        verdict = _read_bytes(fs, f"{layout.bucket}/{layout.verdict_key(account_id, day)}")
        quality = quality_for(manifest, json.loads(verdict) if verdict else None)
        out.append(DayInput(day.isoformat(), manifest, manifest_sha256(raw), parts, quality))
    return out


def open_dataset(
    fs: pafs.FileSystem,
    layout: LakeLayout,
    inputs: Sequence[DayInput],
    dictionary_columns: Sequence[str] = (),
) -> pads.Dataset:
    """A dataset over exactly the period's part files; ``account_id``/``call_date`` come from the paths."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    part_schema = pa.schema([("account_id", pa.string()), ("call_date", pa.string())])
    schema = pa.schema(list(FILE_SCHEMA) + list(part_schema))
    paths = [p for d in inputs for p in d.part_paths]
    if not paths:
        return pads.dataset(pa.table({f.name: pa.array([], f.type) for f in schema}, schema=schema))
    fmt = pads.ParquetFileFormat(
        read_options=pads.ParquetReadOptions(dictionary_columns=set(dictionary_columns))
    )
    if dictionary_columns:
        schema = pa.schema(
            [
                pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in dictionary_columns else f
                for f in schema
            ]
        )
    return pads.dataset(
        paths,
        schema=schema,
        filesystem=fs,
        format=fmt,
        partitioning=pads.partitioning(part_schema, flavor="hive"),
        partition_base_dir=f"{layout.bucket}/{layout.cdr_root}".rstrip("/"),
    )
