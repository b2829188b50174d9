"""Keeping a validation: its files beside the partition and its verdict, only if the content is unchanged."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from airflow_provider_vobiz.lake.manifest import Manifest
from airflow_provider_vobiz.lake.paths import REPORT_CONTENT_TYPES
from airflow_provider_vobiz.lake.read import partition_manifest
from airflow_provider_vobiz.lake.records import write_quality
from airflow_provider_vobiz.quality.present import to_report
from airflow_provider_vobiz.quality.result import QualityError, QualityResult
from airflow_provider_vobiz.reports.render import render_html, render_pdf

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage


def record_validation(
    storage: LakeStorage,
    layout: LakeLayout,
    result: QualityResult,
    gx_result: dict[str, Any],
    manifest: Manifest,
) -> None:
    """Store the validation beside the partition and record its verdict (``verdict.json``).

    Writes ``validation.json`` (GX's result, masked, with a ``vobiz`` section in its ``meta``),
    ``validation.html`` and ``validation.pdf`` (the same document, :func:`.present.to_report`), then the
    verdict. Sets the result's keys and URIs.

    :raises QualityError: the partition was restated while it was being validated (nothing is stored).
    """
    # The manifest may have been restated while we validated: never stamp new content with an old verdict.
    current = partition_manifest(storage, layout, result.account_id, result.call_date) or Manifest({})
    if current.content_sha256 != result.content_sha256:
        raise QualityError(
            f"partition {result.account_id}/{result.call_date} was replaced while it was being validated "
            f"(content {result.content_sha256} -> {current.content_sha256}); run the check again"
        )
    result.validation_key = layout.validation_key(result.account_id, result.call_date, "json")
    result.html_key = layout.validation_key(result.account_id, result.call_date, "html")
    result.validation_uri = layout.s3_uri(result.validation_key)
    result.html_uri = layout.s3_uri(result.html_key)
    result.pdf_key = layout.validation_key(result.account_id, result.call_date, "pdf")
    # As recorded (None when the manifest has none): copied into validation.json and its page.
    reconciliation = manifest.data.get("reconciliation")
    gx_result.setdefault("meta", {})["vobiz"] = {
        "account_id": result.account_id,
        "call_date": result.call_date,
        "status": result.status,
        "rows": result.rows,
        "content_sha256": result.content_sha256,
        "suite_source": result.suite_source,
        "suite_sha256": result.suite_sha256,
        "validated_at": result.validated_at,
        "reconciliation": reconciliation,
        "checks": [
            {k: v for k, v in asdict(c).items() if k not in ("examples",)} | {"examples": c.examples[:3]}
            for c in result.checks
        ],
    }
    storage.put_json(result.validation_key, gx_result)
    report = to_report(result, reconciliation)
    storage.put_bytes(result.html_key, render_html(report), content_type=REPORT_CONTENT_TYPES["html"])
    storage.put_bytes(result.pdf_key, render_pdf(report), content_type=REPORT_CONTENT_TYPES["pdf"])
    write_quality(storage, layout, result.account_id, result.call_date, result.manifest_quality())


__all__ = ["record_validation"]
