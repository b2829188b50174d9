"""A report's versions: whether a new summary states something else than the published one, and the lineage
it then records (each superseded version archived at its own path, with the sha256 of its JSON)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.lake.paths import REPORT_FORMATS, LakeLayout

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.storage import LakeStorage


def why_superseded(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """Why ``new`` supersedes ``old`` (both summary documents), or None when it states the same thing:
    the same inputs (manifest hashes), quality verdicts, status and settings."""
    reasons = []
    old_inputs = {i["call_date"]: i for i in old.get("inputs") or []}
    new_inputs = {i["call_date"]: i for i in new.get("inputs") or []}
    for day in sorted(set(old_inputs) | set(new_inputs)):
        o, n = old_inputs.get(day), new_inputs.get(day)
        if o is None:
            reasons.append(f"{day} published since")
        elif n is None:
            reasons.append(f"{day} no longer in the lake")
        elif o.get("manifest_sha256") != n.get("manifest_sha256"):
            reasons.append(
                f"{day} restated (manifest {o.get('manifest_sha256')} -> {n.get('manifest_sha256')}, "
                f"rows {o.get('row_count')} -> {n.get('row_count')})"
            )
    old_q = (old.get("quality") or {}).get("days") or {}
    new_q = (new.get("quality") or {}).get("days") or {}
    for day in sorted(set(old_q) & set(new_q)):
        if old_q[day].get("status") != new_q[day].get("status") and day in new_inputs and day in old_inputs:
            reasons.append(f"{day} quality {old_q[day].get('status')} -> {new_q[day].get('status')}")
    if old.get("status") != new.get("status"):
        reasons.append(f"status {old.get('status') or 'not stated'} -> {new.get('status')}")
    if old.get("config") != new.get("config"):
        reasons.append("report settings changed")
    return "; ".join(reasons) or None


def supersede(storage: LakeStorage, layout: LakeLayout, summary: dict[str, Any]) -> dict[str, str]:
    """Compare ``summary`` with the report already published for its period and record the lineage.

    When the new one states something else (:func:`why_superseded`), ``summary`` gets ``version`` (the old
    one's + 1) and ``supersedes``: the old version first (``version``, ``path`` of its archived JSON,
    ``sha256`` of that JSON's bytes, ``generated_at``, ``status``, ``reason``), then the versions it
    superseded. A re-run that states the same thing replaces the report in place and keeps its lineage.

    :returns: ``{current key: archive key}`` for :func:`publish` to copy before it overwrites.
    """
    account_id, period = summary["account_id"], summary["period"]
    raw = storage.get_bytes_or_none(layout.summary_report_key(account_id, period, "json"))
    if raw is None:
        summary["version"], summary["supersedes"] = 1, []
        return {}
    old = json.loads(raw)
    reason = why_superseded(old, summary)
    lineage = list(old.get("supersedes") or [])
    if reason is None:
        summary["version"], summary["supersedes"] = int(old.get("version") or 1), lineage
        return {}
    digest = hashlib.sha256(raw).hexdigest()
    archive = {
        layout.summary_report_key(account_id, period, ext): layout.summary_report_archive_key(
            account_id, period, digest, ext
        )
        for ext in REPORT_FORMATS
    }
    summary["version"] = int(old.get("version") or 1) + 1
    summary["supersedes"] = [
        {
            "version": int(old.get("version") or 1),
            "path": layout.s3_uri(layout.summary_report_archive_key(account_id, period, digest, "json")),
            "sha256": digest,
            "generated_at": old.get("generated_at"),
            "status": old.get("status"),
            "reason": reason,
        },
        *lineage,
    ]
    return archive
