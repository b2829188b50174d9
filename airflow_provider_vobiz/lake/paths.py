"""The lake layout: the one place that knows where every object of the lake lives.

``{lake}`` is an ``s3://bucket/prefix`` URI. Hive-style keys, so DuckDB, Athena, Trino and Spark read the
data as it is::

    {lake}/cdr/account_id={auth_id}/call_date={YYYY-MM-DD}/part-{00000}-{version}.parquet
    {lake}/cdr/account_id={auth_id}/call_date={YYYY-MM-DD}/_manifest.json
    {lake}/cdr/account_id={auth_id}/call_date={YYYY-MM-DD}/_manifests/{sha256}.json  (superseded versions)
    {lake}/cdr/account_id={auth_id}/call_date={YYYY-MM-DD}/_object_lock.json      (retention records: never in
    {lake}/cdr/account_id={auth_id}/call_date={YYYY-MM-DD}/_legal_hold.json        the manifest, which is immutable)
    {lake}/cdr/account_id={auth_id}/call_date={YYYY-MM-DD}/_lease.json             (the one writer of the day)
    {lake}/quality/account_id={auth_id}/call_date={YYYY-MM-DD}/validation.json (+ .html, .pdf)
    {lake}/quality/account_id={auth_id}/call_date={YYYY-MM-DD}/verdict.json     (the small verdict readers use)
    {lake}/quarantine/account_id={auth_id}/call_date={YYYY-MM-DD}/rejects-{version}.jsonl
    {lake}/cdr_tokenised/account_id={auth_id}/call_date={YYYY-MM-DD}/...      (cdr/ with phone numbers as
                                                                            keyed HMAC tokens; same layout)
    {lake}/reports/trai_summary/account_id={auth_id}/period={YYYY-MM | YYYY-MM-DD}/summary.{csv,json,html,pdf}
    {lake}/reports/trai_summary/account_id={auth_id}/period={…}/_superseded/{json sha256}/summary.{…}  (old versions)
    {lake}/reports/trai_retention/account_id={auth_id}/as_of={YYYY-MM-DD}/retention.{csv,json,html,pdf}
    {lake}/retention/deletions/account_id={auth_id}/{deleted_at}-{call_date}.json   (append-only log)
    {lake}/notifications/account_id={auth_id}/{topic}/{digest}.json                  (what was sent, once)
    {lake}/_staging/...                     (used by releases before versioned parts; collected, never written)

``{version}`` names one publish of a day (``20261201T120000Z-1a2b3c4d``): parts and rejects are never
overwritten, and ``_manifest.json`` (written last, conditionally) is the pointer to the current version.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from airflow_provider_vobiz.cdr.window import parse_day

_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PERIOD_RE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_TOPIC_RE = re.compile(r"^[a-z][a-z0-9_]*(/[a-z_]+=[0-9A-Za-z_.-]+)?$")
_DIGEST_RE = re.compile(r"^[0-9a-f]{16,64}$")
_PARTITION_RE = re.compile(r"account_id=(?P<account>[^/]+)/call_date=(?P<day>\d{4}-\d{2}-\d{2})/")

MANIFEST_NAME = "_manifest.json"
MANIFEST_ARCHIVE_DIR = "_manifests"
OBJECT_LOCK_NAME = "_object_lock.json"
LEGAL_HOLD_NAME = "_legal_hold.json"
LEASE_NAME = "_lease.json"
_VERSIONED_RE = re.compile(
    r"^(?:part-\d{5}|rejects)-(?P<version>\d{8}T\d{6}Z-[0-9a-f]{8})\.(?:parquet|jsonl)$"
)
PART_TEMPLATE = "part-{index:05d}.parquet"
#: Folder (inside a report's period folder) holding the versions a regenerated report superseded.
SUPERSEDED_DIR = "_superseded"
REPORT_FORMATS = ("csv", "json", "html", "pdf")
#: The files of one validation: GX's result (json) and the page people read (html, and the same as pdf).
VALIDATION_FORMATS = ("json", "html", "pdf")
#: How each report format is stored in S3 and served by the Compliance reports page.
REPORT_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def _check_account(account_id: str) -> str:
    if not _ACCOUNT_RE.match(account_id or ""):
        raise ValueError(f"account_id {account_id!r} is not a valid Vobiz auth id (letters, digits, _ . -)")
    return account_id


def _day(value: dt.date | str) -> str:
    return parse_day(value).isoformat()


@dataclass(frozen=True)
class LakeLayout:
    """Object keys of one lake, rooted at ``s3://bucket/prefix``.

    :param bucket: the S3 bucket.
    :param prefix: the key prefix inside the bucket, without leading or trailing slashes (may be empty).
    """

    bucket: str
    prefix: str = ""

    @classmethod
    def from_uri(cls, lake_uri: str) -> LakeLayout:
        """Parse ``s3://bucket/prefix`` (a trailing slash is ignored)."""
        if not lake_uri or not lake_uri.startswith("s3://"):
            raise ValueError(f"lake_uri must look like s3://bucket/prefix, got {lake_uri!r}")
        rest = lake_uri[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ValueError(f"lake_uri {lake_uri!r} names no bucket")
        return cls(bucket=bucket, prefix=prefix.strip("/"))

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, *parts: str) -> str:
        """Join ``parts`` under the lake prefix."""
        joined = "/".join(p.strip("/") for p in parts if p)
        return f"{self.prefix}/{joined}" if self.prefix else joined

    def s3_uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    # -- CDR partitions ---------------------------------------------------------------------------------
    @property
    def cdr_root(self) -> str:
        """Key prefix of the CDR dataset (ending with a slash)."""
        return self.key("cdr") + "/"

    def tokenised(self) -> LakeLayout:
        """The same lake seen from its tokenised zone: ``cdr/`` (partitions, manifests, staging) is
        ``cdr_tokenised/``. The zone keeps no quarantine or quality results of its own (rejects hold raw
        records), so their keys move aside too and a publish there never touches the raw zone's."""
        return _TokenisedLayout(self.bucket, self.prefix)

    @property
    def quarantine_root(self) -> str:
        """Key prefix of the quarantine dataset (``rejects.jsonl`` per partition; ending with a slash)."""
        return self.key("quarantine") + "/"

    def account_prefix(self, account_id: str) -> str:
        return self.key("cdr", f"account_id={_check_account(account_id)}") + "/"

    def partition_prefix(self, account_id: str, call_date: dt.date | str) -> str:
        """Key prefix of one day's partition (ending with a slash)."""
        return (
            self.key("cdr", f"account_id={_check_account(account_id)}", f"call_date={_day(call_date)}") + "/"
        )

    def part_key(
        self, account_id: str, call_date: dt.date | str, index: int, version: str | None = None
    ) -> str:
        """A part's key; ``version`` (the publish that wrote it) makes every version's parts new objects."""
        name = PART_TEMPLATE.format(index=index)
        if version:
            name = name.replace(".parquet", f"-{version}.parquet")
        return self.partition_prefix(account_id, call_date) + name

    def manifest_key(self, account_id: str, call_date: dt.date | str) -> str:
        return self.partition_prefix(account_id, call_date) + MANIFEST_NAME

    def manifest_archive_key(self, account_id: str, call_date: dt.date | str, sha256: str) -> str:
        """Where a superseded manifest version is kept, named by the sha256 of its exact bytes."""
        return self.partition_prefix(account_id, call_date) + f"{MANIFEST_ARCHIVE_DIR}/{sha256}.json"

    def object_lock_key(self, account_id: str, call_date: dt.date | str) -> str:
        """The day's Object Lock record (``_``-prefixed: Hive, Spark and Athena skip it)."""
        return self.partition_prefix(account_id, call_date) + OBJECT_LOCK_NAME

    def legal_hold_key(self, account_id: str, call_date: dt.date | str) -> str:
        """The day's legal-hold record (``_``-prefixed: Hive, Spark and Athena skip it)."""
        return self.partition_prefix(account_id, call_date) + LEGAL_HOLD_NAME

    def lease_key(self, account_id: str, call_date: dt.date | str) -> str:
        """The lease object a publisher holds while it writes the day (conditional create, with expiry)."""
        return self.partition_prefix(account_id, call_date) + LEASE_NAME

    @staticmethod
    def version_of(key: str) -> str | None:
        """The publish version a part or rejects key carries (None for other keys and unversioned names)."""
        m = _VERSIONED_RE.match(key.rsplit("/", 1)[-1])
        return m["version"] if m else None

    @staticmethod
    def is_part_key(key: str) -> bool:
        name = key.rsplit("/", 1)[-1]
        return name.startswith("part-") and name.endswith(".parquet")

    @staticmethod
    def parse_partition(key: str) -> tuple[str, str] | None:
        """Return ``(account_id, call_date)`` of a key inside a partition, or None."""
        m = _PARTITION_RE.search(key)
        return (m["account"], m["day"]) if m else None

    # -- beside the partition ---------------------------------------------------------------------------
    def quality_prefix(self, account_id: str, call_date: dt.date | str) -> str:
        return (
            self.key("quality", f"account_id={_check_account(account_id)}", f"call_date={_day(call_date)}")
            + "/"
        )

    def validation_key(self, account_id: str, call_date: dt.date | str, ext: str = "json") -> str:
        """A validation's file: ``ext`` one of :data:`VALIDATION_FORMATS` (``validation.pdf`` is the page as PDF)."""
        if ext not in VALIDATION_FORMATS:
            raise ValueError(f"a validation is stored as {', '.join(VALIDATION_FORMATS)}, not {ext!r}")
        return self.quality_prefix(account_id, call_date) + f"validation.{ext}"

    def verdict_key(self, account_id: str, call_date: dt.date | str) -> str:
        """The quality verdict of the partition's current version (what readers and the operator reuse)."""
        return self.quality_prefix(account_id, call_date) + "verdict.json"

    def quarantine_prefix(self, account_id: str, call_date: dt.date | str) -> str:
        return (
            self.key("quarantine", f"account_id={_check_account(account_id)}", f"call_date={_day(call_date)}")
            + "/"
        )

    def rejects_key(self, account_id: str, call_date: dt.date | str, version: str | None = None) -> str:
        """The day's quarantined records; ``version`` names the publish they belong to (the manifest's key)."""
        return self.quarantine_prefix(account_id, call_date) + (
            f"rejects-{version}.jsonl" if version else "rejects.jsonl"
        )

    def staging_prefix(self, account_id: str, call_date: dt.date | str) -> str:
        """Where releases before versioned parts staged a day's writes; publish and retention collect it."""
        return (
            self.key(
                "_staging", "cdr", f"account_id={_check_account(account_id)}", f"call_date={_day(call_date)}"
            )
            + "/"
        )

    # -- reports ----------------------------------------------------------------------------------------
    @property
    def reports_root(self) -> str:
        """Key prefix under which every report lives (the UI serves nothing else)."""
        return self.key("reports") + "/"

    @property
    def summary_reports_root(self) -> str:
        """Key prefix holding one ``account_id=.../`` folder per account with summary reports."""
        return self.key("reports", "trai_summary") + "/"

    @property
    def retention_reports_root(self) -> str:
        """Key prefix holding one ``account_id=.../`` folder per account with retention reports."""
        return self.key("reports", "trai_retention") + "/"

    def summary_report_prefix(self, account_id: str, period: str) -> str:
        if not _PERIOD_RE.match(period):
            raise ValueError(f"period must be YYYY-MM or YYYY-MM-DD, got {period!r}")
        return (
            self.key(
                "reports", "trai_summary", f"account_id={_check_account(account_id)}", f"period={period}"
            )
            + "/"
        )

    def summary_report_key(self, account_id: str, period: str, ext: str) -> str:
        _check_format(ext)
        return self.summary_report_prefix(account_id, period) + f"summary.{ext}"

    def summary_report_archive_key(self, account_id: str, period: str, json_sha256: str, ext: str) -> str:
        """Where a superseded summary is kept, named by the sha256 of its JSON's exact bytes."""
        _check_format(ext)
        if not re.fullmatch(r"[0-9a-f]{64}", json_sha256):
            raise ValueError(f"a superseded report is named by a sha256 (64 hex digits), got {json_sha256!r}")
        return (
            self.summary_report_prefix(account_id, period) + f"{SUPERSEDED_DIR}/{json_sha256}/summary.{ext}"
        )

    def retention_report_prefix(self, account_id: str, as_of: dt.date | str) -> str:
        return (
            self.key(
                "reports",
                "trai_retention",
                f"account_id={_check_account(account_id)}",
                f"as_of={_day(as_of)}",
            )
            + "/"
        )

    def retention_report_key(self, account_id: str, as_of: dt.date | str, ext: str) -> str:
        _check_format(ext)
        return self.retention_report_prefix(account_id, as_of) + f"retention.{ext}"

    # -- retention enforcement --------------------------------------------------------------------------
    def deletion_log_prefix(self, account_id: str) -> str:
        return self.key("retention", "deletions", f"account_id={_check_account(account_id)}") + "/"

    def deletion_log_key(self, account_id: str, call_date: dt.date | str, deleted_at: dt.datetime) -> str:
        stamp = deleted_at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        return self.deletion_log_prefix(account_id) + f"{stamp}-{_day(call_date)}.json"

    # -- notifications ----------------------------------------------------------------------------------
    def notification_prefix(self, account_id: str, topic: str) -> str:
        """Where the markers of what was sent about ``topic`` live, e.g. ``trai_summary/period=2026-10``."""
        if not _TOPIC_RE.match(topic or ""):
            raise ValueError(f"notification topic must look like name or name/key=value, got {topic!r}")
        return self.key("notifications", f"account_id={_check_account(account_id)}", topic) + "/"

    def notification_marker_key(self, account_id: str, topic: str, digest: str) -> str:
        """The marker written once a notification with this ``digest`` (content + recipients) was sent."""
        if not _DIGEST_RE.match(digest or ""):
            raise ValueError(f"notification digest must be lowercase hex, got {digest!r}")
        return self.notification_prefix(account_id, topic) + f"{digest}.json"

    @staticmethod
    def parse_account(prefix: str) -> str | None:
        """Return the ``account_id`` of an ``…/account_id=…/`` prefix (one listed under ``cdr_root``), or None."""
        m = re.search(r"account_id=(?P<account>[^/]+)/?$", prefix)
        return m["account"] if m else None


def _check_format(ext: str) -> None:
    if ext not in REPORT_FORMATS:
        raise ValueError(f"report format must be one of {REPORT_FORMATS}, got {ext!r}")


#: Top-level folders of the raw zone and their counterparts in the tokenised zone.
_TOKENISED_FOLDERS = {
    "cdr": "cdr_tokenised",
    "quarantine": "quarantine_tokenised",
    "quality": "quality_tokenised",
}


class _TokenisedLayout(LakeLayout):
    """:meth:`LakeLayout.tokenised`: every key built under ``cdr/`` (or beside it) lands in the zone."""

    def key(self, *parts: str) -> str:
        renamed = list(parts)
        # "_staging/cdr/..." as well as "cdr/...": the first folder that names a dataset.
        index = 1 if renamed[:1] == ["_staging"] else 0
        if len(renamed) > index and renamed[index] in _TOKENISED_FOLDERS:
            renamed[index] = _TOKENISED_FOLDERS[renamed[index]]
        return super().key(*renamed)

    def tokenised(self) -> LakeLayout:
        return self
