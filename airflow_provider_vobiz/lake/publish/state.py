"""What is published: the day's current version as read at the start of a publish, which pull is newer, and
what a publish returns."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from airflow_provider_vobiz.lake.manifest import manifest_sha256


@dataclass(frozen=True)
class Published:
    """The current version of a day as read at the start of a publish."""

    manifest: dict[str, Any]
    raw: bytes
    etag: str

    @property
    def sha256(self) -> str:
        return manifest_sha256(self.raw)


def new_version() -> str:
    """A publish's version id: sortable by time, unique by a random suffix."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp (naive: UTC), or None when ``value`` is not one."""
    try:
        ts = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)


def is_newer(published: dict[str, Any], incoming: dict[str, Any]) -> bool:
    """True when the published version came from a later pull than ``incoming`` (equal: incoming wins)."""
    old, new = parse_time(published.get("extracted_at")), parse_time(incoming.get("extracted_at"))
    return old is not None and new is not None and old > new


def json_or_empty(raw: bytes) -> dict[str, Any]:
    """A JSON object from bytes, or an empty dict when they hold something else (a damaged object)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the manifest readers now see, and whether (and why) it changed."""

    manifest: dict[str, Any]
    changed: bool
    restated: bool
    #: A newer pull of the day was already published; this one changed nothing.
    superseded: bool = False
    #: The content was unchanged but the lake did not match the manifest, so the day was written again.
    repaired: bool = False
