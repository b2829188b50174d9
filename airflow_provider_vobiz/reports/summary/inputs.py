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

from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.paths import LakeLayout

if TYPE_CHECKING:
    import datetime as dt

    import pyarrow.dataset as pads
    import pyarrow.fs as pafs


@dataclass
class DayInput:
    """One day of the period as the report read it.

    :param call_date: the day, ``YYYY-MM-DD``.
    :param manifest: its published manifest (None: the day is missing from the lake).
    :param part_paths: the part files the report reads, ``bucket/key`` as pyarrow's filesystems expect them.
    :param quality: the verdict of the manifest's content (``pending`` when none judged it).
    """

    call_date: str
    manifest: Manifest | None
    part_paths: list[str]
    quality: dict[str, Any] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.manifest is not None

    @property
    def manifest_sha256(self) -> str | None:
        """What the report cites: sha256 of the manifest's bytes as read."""
        return None if self.manifest is None else self.manifest.sha256

    @property
    def row_count(self) -> int:
        return 0 if self.manifest is None else self.manifest.row_count or 0


def _read_bytes(fs: pafs.FileSystem, path: str) -> bytes | None:
    import pyarrow.fs as pafs

    info = fs.get_file_info(path)
    if info.type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as f:
        return f.read()


def _listed_parts(fs: pafs.FileSystem, layout: LakeLayout, prefix: str) -> list[str]:
    """Every part file under a partition whose (older) manifest does not list its parts."""
    import pyarrow.fs as pafs

    found = fs.get_file_info(pafs.FileSelector(f"{layout.bucket}/{prefix}", allow_not_found=True))
    return sorted(i.path for i in found if i.type == pafs.FileType.File and LakeLayout.is_part_key(i.path))


def collect_inputs(
    fs: pafs.FileSystem, layout: LakeLayout, account_id: str, days: Sequence[dt.date]
) -> list[DayInput]:
    """Each day's manifest and the part files it names, with the quality verdict of its content; a day with
    no manifest is missing.

    The report is handed the lake's pyarrow filesystem, so it reads the bytes there; what they say is read
    through :class:`~airflow_provider_vobiz.lake.manifest.Manifest`.
    """
    out = []
    for day in days:
        raw = _read_bytes(fs, f"{layout.bucket}/{layout.manifest_key(account_id, day)}")
        if raw is None:
            out.append(DayInput(day.isoformat(), None, []))
            continue
        manifest = Manifest.from_json(raw)
        prefix = layout.partition_prefix(account_id, day)
        if manifest.has_parts_list:
            # The manifest's parts are the partition's content (their hashes make content_sha256).
            parts = [f"{layout.bucket}/{key}" for key in manifest.part_keys(prefix)]
        else:
            parts = _listed_parts(fs, layout, prefix)
        verdict = _read_bytes(fs, f"{layout.bucket}/{layout.verdict_key(account_id, day)}")
        quality = manifest.quality(json.loads(verdict) if verdict else None)
        out.append(DayInput(day.isoformat(), manifest, parts, quality))
    return out


def open_dataset(
    fs: pafs.FileSystem,
    layout: LakeLayout,
    inputs: Sequence[DayInput],
    dictionary_columns: Sequence[str] = (),
) -> pads.Dataset:
    """A dataset over exactly the period's part files (:func:`lake.read.parts_dataset`).

    The parts are the ones the report's inputs cite; reading the manifests again (as
    :func:`lake.read.cdr_dataset` does) could find a day restated in between, and the figures would then
    disagree with the hashes the report cites.
    """
    from airflow_provider_vobiz.lake.read import parts_dataset  # pyarrow.dataset only when a report runs

    paths = [p for d in inputs for p in d.part_paths]
    base_dir = f"{layout.bucket}/{layout.cdr_root}"
    return parts_dataset(fs, base_dir, paths, dictionary_columns=dictionary_columns)
