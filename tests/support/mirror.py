"""A local copy of a lake, laid out as under its prefix (``{root}/cdr/account_id=…/…``): what the demo shows
in ``demo-output/lake``, what the query-engine tests read offline, what the report benchmark reads."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage


def relative_key(layout: LakeLayout, key: str) -> str:
    """``key`` relative to the lake's prefix (``cdr/account_id=…/…``)."""
    return key[len(layout.prefix) :].lstrip("/")


def mirror_lake(
    storage: LakeStorage, layout: LakeLayout, root: Path, keys: Iterable[str] | None = None
) -> list[str]:
    """Copy the lake's objects (every one under its prefix, or only ``keys``) to ``root``, streamed.

    :returns: the keys copied, in the order copied.
    """
    if keys is None:
        keys = [obj["Key"] for obj in storage.list_objects(layout.key(""))]
    copied = []
    for key in keys:
        target = root / relative_key(layout, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            for chunk in storage.iter_chunks(key):
                fh.write(chunk)
        copied.append(key)
    return copied
