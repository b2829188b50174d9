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

:class:`Manifest` is the typed view every reader uses (lake.read returns it): the fields above as
attributes, the parts as :class:`Part`, their full keys, the bytes it is stored as and their sha256. A
published version's bytes never change. The quality verdict, Object Lock and legal hold are learned
later and live in their own objects (lake.records), never in the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.cdr.window import utc_now_iso  # noqa: F401 (its home is cdr.window; kept for earlier imports)
from airflow_provider_vobiz.lake.storage import stable_json
from airflow_provider_vobiz.text_values import int_or_none

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


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The stable JSON bytes a manifest is stored as."""
    return stable_json(manifest)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Part:
    """One Parquet part a manifest names.

    :param key: as recorded: a full key, or (older manifests) a name relative to the partition.
    :param size: its bytes; :param sha256: of its bytes; :param rows: its rows; :param etag: S3's, bare.
    """

    key: str
    size: int | None = None
    sha256: str | None = None
    rows: int | None = None
    etag: str | None = None

    @classmethod
    def from_dict(cls, part: Mapping[str, Any]) -> Part:
        return cls(
            key=str(part.get("key") or ""),
            size=int_or_none(part.get("bytes")),
            sha256=part.get("sha256"),
            rows=int_or_none(part.get("rows")),
            etag=part.get("etag"),
        )

    @property
    def name(self) -> str:
        """The file name (``part-00000-{version}.parquet``)."""
        return self.key.rsplit("/", 1)[-1]

    def full_key(self, partition_prefix: str) -> str:
        """The part's key in the bucket (a bare name is relative to ``partition_prefix``)."""
        return self.key if "/" in self.key else partition_prefix + self.key


@dataclass(frozen=True, eq=False)
class Manifest:
    """A published partition's manifest, typed.

    :param data: the JSON object (what :meth:`to_json` writes; the module docstring lists its keys).
    :param raw: the exact bytes it was read from (None: built in memory); :attr:`sha256` hashes these.
    """

    data: Mapping[str, Any]
    raw: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Manifest:
        """Parse a ``_manifest.json`` object's bytes (kept, for :attr:`sha256`)."""
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        parsed = json.loads(data)
        if not isinstance(parsed, dict):
            raise ValueError(f"a manifest is a JSON object, got {type(parsed).__name__}")
        return cls(parsed, data)

    @classmethod
    def of(cls, manifest: Manifest | Mapping[str, Any] | None) -> Manifest | None:
        """``manifest`` as a :class:`Manifest` (for functions that also take the plain dict)."""
        if manifest is None or isinstance(manifest, Manifest):
            return manifest
        return cls(manifest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Manifest) and dict(self.data) == dict(other.data)

    __hash__ = None  # type: ignore[assignment]  # mutable content

    def to_json(self) -> bytes:
        """The bytes this manifest is stored as (:func:`manifest_bytes`)."""
        return manifest_bytes(self.data)

    @property
    def sha256(self) -> str:
        """What reports cite: sha256 of the bytes read (of :meth:`to_json` when built in memory)."""
        return manifest_sha256(self.raw if self.raw is not None else self.to_json())

    # -- identity ---------------------------------------------------------------------------------------
    @property
    def account_id(self) -> str:
        return str(self.data.get("account_id") or "")

    @property
    def call_date(self) -> str:
        """The day, ``YYYY-MM-DD``."""
        return str(self.data.get("call_date") or "")

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.call_date)

    @property
    def timezone(self) -> str | None:
        return self.data.get("timezone")

    @property
    def version(self) -> str | None:
        """The publish that wrote it (also in its part names)."""
        return self.data.get("version")

    @property
    def schema_version(self) -> int | None:
        return int_or_none(self.data.get("schema_version"))

    @property
    def extracted_at(self) -> str | None:
        return self.data.get("extracted_at")

    @property
    def provider_version(self) -> str | None:
        return self.data.get("provider_version")

    # -- content ----------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int | None:
        """Rows over all parts (None when the manifest's value is not an integer)."""
        return int_or_none(self.data.get("row_count"))

    @property
    def content_sha256(self) -> str | None:
        return self.data.get("content_sha256")

    @property
    def has_parts_list(self) -> bool:
        """Whether the manifest lists its parts (every manifest a publish writes does)."""
        return isinstance(self.data.get("parts"), list)

    @property
    def parts(self) -> tuple[Part, ...]:
        return tuple(Part.from_dict(p) for p in _list(self.data.get("parts")) if isinstance(p, Mapping))

    def part_keys(self, where: LakeLayout | str) -> list[str]:
        """The full keys of the parts, in order.

        :param where: the lake layout (the partition is the manifest's account and day), or the
            partition's key prefix (a bare part name is relative to it).
        """
        prefix = where if isinstance(where, str) else where.partition_prefix(self.account_id, self.call_date)
        return [p.full_key(prefix) for p in self.parts]

    @property
    def parts_rows(self) -> int:
        """Rows the parts record (equal to :attr:`row_count` in an intact manifest)."""
        return sum(p.rows or 0 for p in self.parts)

    @property
    def parts_sha256(self) -> str:
        """:func:`content_sha256` of the parts' recorded hashes (equal to :attr:`content_sha256` when intact)."""
        return content_sha256(p.sha256 or "" for p in self.parts)

    # -- provenance -------------------------------------------------------------------------------------
    @property
    def window(self) -> dict[str, Any]:
        return _dict(self.data.get("window"))

    @property
    def source(self) -> dict[str, Any]:
        return _dict(self.data.get("source"))

    @property
    def reconciliation(self) -> dict[str, Any]:
        return _dict(self.data.get("reconciliation"))

    @property
    def rejects(self) -> dict[str, Any]:
        return _dict(self.data.get("rejects"))

    @property
    def rejects_key(self) -> str | None:
        return self.rejects.get("key")

    @property
    def rejects_count(self) -> int:
        """Records quarantined by the publish (0 when the manifest records none)."""
        return int_or_none(self.rejects.get("count")) or 0

    @property
    def unknown_fields(self) -> dict[str, Any]:
        return _dict(self.data.get("unknown_fields"))

    @property
    def missing_fields(self) -> dict[str, Any]:
        return _dict(self.data.get("missing_fields"))

    @property
    def tokenisation(self) -> dict[str, Any]:
        """The tokenised zone's manifests only: ``{"algorithm", "key_id", ...}`` (reports.tokenised)."""
        return _dict(self.data.get("tokenisation"))

    @property
    def history(self) -> list[dict[str, Any]]:
        """Restatements, oldest first (empty when the day was never restated)."""
        return [h for h in _list(self.data.get("history")) if isinstance(h, dict)]

    @property
    def repairs(self) -> list[dict[str, Any]]:
        return [r for r in _list(self.data.get("repairs")) if isinstance(r, dict)]

    # -- what was learned later (lake.records) ----------------------------------------------------------
    def quality(self, verdict: Mapping[str, Any] | None) -> dict[str, Any]:
        """``verdict`` if it judged this manifest's content, else ``{"status": "pending"}``."""
        if (
            isinstance(verdict, Mapping)
            and verdict.get("status") in QUALITY_STATUSES
            and verdict.get("content_sha256") == self.content_sha256
        ):
            return dict(verdict)
        return {"status": QUALITY_PENDING}

    def quality_status(self, verdict: Mapping[str, Any] | None) -> str:
        """The status of :meth:`quality` (``pending`` when no verdict judged this content)."""
        return str(self.quality(verdict)["status"])


def read_manifest(
    storage: LakeStorage, layout: LakeLayout, account_id: str, call_date: dt.date | str
) -> dict[str, Any] | None:
    """The published manifest of a partition as a plain dict, or None if the day was never published.

    ``lake.read.partition_manifest`` returns it as a :class:`Manifest`.
    """
    return storage.get_json(layout.manifest_key(account_id, call_date))


def write_manifest(storage: LakeStorage, layout: LakeLayout, manifest: Manifest | Mapping[str, Any]) -> bytes:
    """Write ``manifest`` to its partition unconditionally; returns the bytes written (stable JSON).

    Publishing never calls this (it writes conditionally, lake.publish); tests use it to build fixtures.
    """
    data = manifest.data if isinstance(manifest, Manifest) else manifest
    return storage.put_json(layout.manifest_key(data["account_id"], data["call_date"]), data)
