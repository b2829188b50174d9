"""Re-check a report's inputs against the lake: ``python -m airflow_provider_vobiz.verify REPORT``.

    python -m airflow_provider_vobiz.verify demo-output/lake/reports/trai_summary/account_id=MA_X/period=2026-10/summary.json
    python -m airflow_provider_vobiz.verify s3://vobiz-lake/lake/reports/trai_summary/account_id=MA_X/period=2026-10/summary.json
    ... --full          # also re-hash every Parquet part the manifest lists
    ... --json          # one JSON object per partition instead of text

``REPORT`` is a report's JSON, a local file or an ``s3://`` URI (read with the Airflow connection
``--aws-conn-id``, default ``aws_default``). A local report is checked against the lake it sits in: the
directory above its ``reports/`` folder (``demo-output/lake`` for the demo), so a copy of the lake is
verified offline. An ``s3://`` report is checked against the lake of its own bucket and prefix.

For every partition the report cites it prints one line:

- ``match``: the partition's ``_manifest.json`` bytes hash to the cited ``manifest_sha256`` (and it states
  the cited ``content_sha256`` and row count);
- ``restated since``: the manifest changed through a restatement after the report; the history entry that
  replaced the cited version follows (a newer report covers the new data), and where the cited version is
  kept (``_manifests/{sha256}.json``) when it is;
- ``repaired since``: the same content, its parts rewritten by a repair (the manifest's ``repairs`` entry);
- ``missing``: the partition has no manifest any more (purged after retention, or never copied);
- ``changed``: the bytes differ and no history entry explains it, or the manifest is no longer JSON: the
  lake was altered outside the publisher;
- ``unreadable``: the lake could not be read for that partition (the error follows, numbers masked).

The exit status is 0 only when every partition is ``match``; 1 otherwise; 2 when the report itself cannot be
read. Every hash is re-computable with ``sha256sum`` (docs/summary.md, "Hashes").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_vobiz.lake.manifest import Manifest, content_sha256
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.privacy import mask_text

MATCH = "match"
RESTATED = "restated since"
#: The same content, its parts rewritten by a repair (the manifest's ``repairs``): figures still hold.
REPAIRED = "repaired since"
MISSING = "missing"
CHANGED = "changed"
UNREADABLE = "unreadable"


class ReportUnreadable(ValueError):
    """The report could not be read or is not a report that cites its inputs."""


@dataclass
class InputCheck:
    """The verdict on one cited partition."""

    call_date: str
    status: str
    detail: str
    #: The history entries that replaced the cited version (``restated since`` only), oldest first.
    history: list[dict[str, Any]] = field(default_factory=list)


class LakeReader:
    """Reads lake objects by key; ``None`` when an object does not exist."""

    layout: LakeLayout

    def read(self, key: str) -> bytes | None:  # pragma: no cover - interface
        raise NotImplementedError


class LocalLake(LakeReader):
    """A copy of the lake on disk (``root`` holds ``cdr/``, ``quality/``, ``reports/``)."""

    def __init__(self, root: Path, origin_prefix: str = "") -> None:
        self.root = root
        self.layout = LakeLayout(bucket="local", prefix="")
        #: The key prefix of the lake the copy was made from: manifests name their parts by full key.
        self.origin_prefix = origin_prefix.strip("/")

    def read(self, key: str) -> bytes | None:
        if self.origin_prefix and key.startswith(self.origin_prefix + "/"):
            key = key[len(self.origin_prefix) + 1 :]
        path = self.root / key
        return path.read_bytes() if path.is_file() else None


class S3Lake(LakeReader):
    """The lake on S3, read with an Airflow ``aws`` connection."""

    def __init__(self, layout: LakeLayout, aws_conn_id: str) -> None:
        from airflow_provider_vobiz.lake.storage import LakeStorage

        self.layout = layout
        self.storage = LakeStorage(aws_conn_id, layout.bucket)

    def read(self, key: str) -> bytes | None:
        return self.storage.get_bytes_or_none(key)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lake_of_report_key(key: str) -> str:
    """The lake prefix of a report's key: everything before its ``reports/`` folder."""
    head, sep, _ = key.rpartition("reports/trai_")
    if not sep:
        raise ReportUnreadable(f"{key!r} is not under a lake's reports/ folder")
    return head.rstrip("/")


def _lake_uri_of(report: dict[str, Any]) -> str | None:
    """The lake a report was made from: a summary's ``lake_uri``, a retention report's ``inputs.lake_uri``."""
    inputs = report.get("inputs")
    return inputs.get("lake_uri") if isinstance(inputs, dict) else report.get("lake_uri")


def open_report(location: str, aws_conn_id: str = "aws_default") -> tuple[dict[str, Any], bytes, LakeReader]:
    """The report (parsed), its exact bytes, and a reader of the lake it belongs to."""
    if location.startswith("s3://"):
        bucket, _, key = location[len("s3://") :].partition("/")
        if not bucket or not key:
            raise ReportUnreadable(f"an s3:// report needs a bucket and a key, got {location!r}")
        prefix = _lake_of_report_key(key)
        lake: LakeReader = S3Lake(LakeLayout.from_uri(f"s3://{bucket}/{prefix}"), aws_conn_id)
        raw = lake.read(key)
        if raw is None:
            raise ReportUnreadable(f"{location} does not exist")
    else:
        path = Path(location).resolve()
        if not path.is_file():
            raise ReportUnreadable(f"{location} is not a file")
        parents = [p for p in path.parents if p.name == "reports"]
        if not parents:
            raise ReportUnreadable(f"{location} is not under a lake's reports/ folder")
        lake = LocalLake(parents[0].parent)
        raw = path.read_bytes()
    try:
        report = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReportUnreadable(f"{location} is not JSON: {err}") from None
    if not isinstance(report, dict) or "account_id" not in report:
        raise ReportUnreadable(f"{location} is not a report's JSON (no account_id)")
    if isinstance(lake, LocalLake):
        origin = _lake_uri_of(report)
        if origin:
            lake.origin_prefix = LakeLayout.from_uri(origin).prefix
    return report, raw, lake


def cited_inputs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What the report cites per partition: ``{call_date, manifest_sha256?, content_sha256, row_count?}``.

    A summary lists its ``inputs``; a retention report cites each present day's ``manifest_sha256`` and
    ``content_sha256`` in ``days``.
    """
    if isinstance(report.get("inputs"), list):
        cited = list(report["inputs"])
    else:
        cited = [
            {
                "call_date": d.get("call_date"),
                "manifest_sha256": d.get("manifest_sha256"),
                "content_sha256": d["content_sha256"],
                "row_count": d.get("rows"),
            }
            for d in report.get("days") or []
            if isinstance(d, dict) and d.get("content_sha256")
        ]
    for i, entry in enumerate(cited):
        if not isinstance(entry, dict) or not isinstance(entry.get("call_date"), str):
            raise ReportUnreadable(f"input {i + 1} of the report names no call_date: {str(entry)[:80]}")
        if not (entry.get("manifest_sha256") or entry.get("content_sha256")):
            raise ReportUnreadable(f"input {entry['call_date']} of the report cites no hash")
    return cited


def _replaced(manifest: Manifest, cited: dict[str, Any]) -> tuple[str, list[dict[str, Any]]] | None:
    """``(status, entries)``: the history (or repair) entries from the one that replaced the cited version
    on, or None if no entry did."""
    for status, entries in ((RESTATED, manifest.history), (REPAIRED, manifest.repairs)):
        for i, entry in enumerate(entries):
            named = entry.get("old_manifest_sha256")
            if named:
                hit = named == cited.get("manifest_sha256")
            else:  # entries written before manifests were archived name only the content they replaced
                hit = status == RESTATED and entry.get("old_content_sha256") == cited.get("content_sha256")
            if hit:
                return status, entries[i:]
    return None


def check_input(
    lake: LakeReader, account_id: str, cited: dict[str, Any], *, full: bool = False
) -> InputCheck:
    """Re-read one cited partition and judge it (see the module docstring for the statuses)."""
    day = cited["call_date"]
    key = lake.layout.manifest_key(account_id, day)
    raw = lake.read(key)
    if raw is None:
        return InputCheck(day, MISSING, f"no {key}")
    try:
        manifest = Manifest.from_json(raw)
    except ValueError:  # not UTF-8, not JSON, or not an object
        digest = sha256_hex(raw)
        return InputCheck(day, CHANGED, f"{key} hashes to {digest} and is not a manifest (not a JSON object)")
    digest = manifest.sha256
    want_manifest = cited.get("manifest_sha256")
    same = digest == want_manifest if want_manifest else manifest.content_sha256 == cited["content_sha256"]
    if not same:
        replaced = _replaced(manifest, cited)
        if replaced is not None:
            status, entries = replaced
            detail = f"{key} is now {digest}"
            if want_manifest:
                archived = lake.read(lake.layout.manifest_archive_key(account_id, day, want_manifest))
                if archived is not None and sha256_hex(archived) == want_manifest:
                    detail += f"; the cited version is kept at {lake.layout.manifest_archive_key(account_id, day, want_manifest)}"
            return InputCheck(day, status, detail, entries)
        return InputCheck(
            day,
            CHANGED,
            f"{key} hashes to {digest}, content {manifest.content_sha256}; the report cites "
            f"{want_manifest or '-'}, content {cited.get('content_sha256')}, and no history entry replaced it",
        )
    problems = []
    if manifest.content_sha256 != cited.get("content_sha256"):
        problems.append(f"content_sha256 {manifest.content_sha256} != cited {cited.get('content_sha256')}")
    if cited.get("row_count") is not None and manifest.row_count != cited["row_count"]:
        problems.append(f"row_count {manifest.row_count} != cited {cited['row_count']}")
    if full:
        problems.extend(_rehash_parts(lake, account_id, day, manifest))
    if problems:
        return InputCheck(day, CHANGED, "; ".join(problems))
    return InputCheck(day, MATCH, f"manifest sha256 {digest}")


def _rehash_parts(lake: LakeReader, account_id: str, day: str, manifest: Manifest) -> list[str]:
    problems, hashes = [], []
    prefix = lake.layout.partition_prefix(account_id, day)
    for part in manifest.parts:
        key = part.full_key(prefix)
        data = lake.read(key)
        if data is None:
            problems.append(f"part {key} is missing")
            continue
        hashes.append(sha256_hex(data))
        if hashes[-1] != part.sha256:
            problems.append(f"part {key} hashes to {hashes[-1]}, the manifest says {part.sha256}")
    if not problems and content_sha256(hashes) != manifest.content_sha256:
        problems.append("the parts' hashes do not make the manifest's content_sha256")
    return problems


def verify_report(report: dict[str, Any], lake: LakeReader, *, full: bool = False) -> list[InputCheck]:
    """One :class:`InputCheck` per partition the report cites, in the report's order."""
    checks = []
    for cited in cited_inputs(report):
        try:
            checks.append(check_input(lake, report["account_id"], cited, full=full))
        except Exception as err:  # one unreadable partition must not hide the verdicts of the others
            detail = mask_text(f"{type(err).__name__}: {err}")[:300]
            checks.append(InputCheck(cited["call_date"], UNREADABLE, detail))
    return checks


def format_check(check: InputCheck) -> str:
    line = f"{check.call_date}  {check.status}  {check.detail}"
    for entry in check.history:
        line += "\n    " + json.dumps(entry, sort_keys=True)
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_vobiz.verify",
        description="Re-check every partition a report cites against the lake (match / restated since / missing).",
    )
    parser.add_argument("report", help="a report's JSON: a local path or s3://bucket/key")
    parser.add_argument("--full", action="store_true", help="also re-hash every Parquet part")
    parser.add_argument("--json", action="store_true", help="one JSON object per partition")
    parser.add_argument(
        "--aws-conn-id", default="aws_default", help="Airflow connection for s3:// (aws_default)"
    )
    args = parser.parse_args(argv)
    try:
        report, raw, lake = open_report(args.report, args.aws_conn_id)
        checks = verify_report(report, lake, full=args.full)
    except ReportUnreadable as err:
        print(f"verify: {err}", file=sys.stderr)
        return 2
    if args.json:
        for check in checks:
            print(json.dumps(asdict(check), sort_keys=True))
    else:
        print(f"report {args.report}  sha256 {sha256_hex(raw)}  {len(checks)} input(s)")
        for check in checks:
            print(format_check(check))
    bad = [c for c in checks if c.status != MATCH]
    if not args.json:
        print(f"{len(checks) - len(bad)} of {len(checks)} input(s) match")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
