"""Validate one published partition with the Great Expectations suite and keep the result beside it.

Plain Python, no Airflow: :func:`validate_partition` reads the partition's parts (only the columns the suite
reads, through pyarrow's S3 filesystem), validates them in an ephemeral GX context (:mod:`.gx`), checks the
extraction's API reconciliation from the manifest, and keeps the result (:mod:`.store`): ``validation.json``
(the GX result, masked, plus a ``vobiz`` section in its ``meta``), ``validation.html`` and ``validation.pdf``
beside the partition, and the verdict in ``verdict.json`` beside them (never in the manifest: a published
manifest's bytes never change).

Statuses: ``failed`` when a critical expectation fails (or cannot be evaluated), ``warning`` when only
warnings fail, ``passed`` otherwise. Deciding what to do with ``failed`` is the caller's business: the
operator fails its task; :func:`validate_partition` itself only raises for things that prevent checking at
all (no manifest, an unreadable suite, S3 errors).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.cdr.window import parse_day, utc_now_iso
from airflow_provider_vobiz.lake.integrity import check_partition
from airflow_provider_vobiz.lake.manifest import (
    QUALITY_FAILED,
    QUALITY_PASSED,
    QUALITY_WARNING,
    Manifest,
)
from airflow_provider_vobiz.lake.read import partition_manifest, read_columns

# run_gx is looked up here at call time (tests replace it); the rest are kept for existing imports.
from airflow_provider_vobiz.quality.gx import (
    PARTIAL_UNEXPECTED_COUNT,
    checks_from_gx,
    describe_condition,
    run_gx,
)
from airflow_provider_vobiz.quality.result import CheckResult, QualityError, QualityResult
from airflow_provider_vobiz.quality.store import record_validation
from airflow_provider_vobiz.quality.suite import Suite, load_suite

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)


def reconciliation_checks(manifest: Manifest | dict[str, Any]) -> list[CheckResult]:
    """The extraction's own accounting, from the manifest: every record the API reported was read."""
    manifest = Manifest.of(manifest)
    recon = manifest.reconciliation
    api_total, records_read = recon.get("api_total"), recon.get("records_read")
    check = CheckResult(
        name="api_records_read",
        type="vobiz_reconciliation",
        severity="critical",
        success=api_total is not None and records_read == api_total,
        family="reconciliation",
        description="The extraction read as many records as the API's pagination.total reported",
        observed={"records_read": records_read},
        expected={"api_total": api_total},
    )
    if api_total is None or records_read is None:
        check.error = "the manifest has no reconciliation figures (api_total, records_read)"
    # Malformed records are quarantined, not lost; the day is then incomplete evidence, which
    # people must see, but the record itself is kept, so it is a warning rather than a failure.
    rejected = manifest.rejects_count
    quarantine = CheckResult(
        name="no_records_quarantined",
        type="vobiz_reconciliation",
        severity="warning",
        success=rejected == 0,
        family="reconciliation",
        description="No API record was malformed and quarantined (rejects.jsonl)",
        observed={"rejected": rejected},
        expected={"rejected": 0},
    )
    return [check, quarantine]


def status_of(checks: list[CheckResult]) -> str:
    if any(not c.success and c.severity == "critical" for c in checks):
        return QUALITY_FAILED
    if any(not c.success and c.severity == "warning" for c in checks):
        return QUALITY_WARNING
    return QUALITY_PASSED


def suite_parameters(manifest: Manifest | dict[str, Any]) -> dict[str, Any]:
    """Values the suite's ``$PARAMETER`` references take for this partition (-1 when the manifest lacks one)."""
    manifest = Manifest.of(manifest)
    recon = manifest.reconciliation

    def num(value: Any) -> int:
        return int(value) if isinstance(value, int | float) else -1

    return {
        "manifest_row_count": num(manifest.row_count),
        "reconciliation_in_window": num(recon.get("in_window")),
        "reconciliation_api_total": num(recon.get("api_total")),
        "reconciliation_records_read": num(recon.get("records_read")),
    }


def _iso_day(value: dt.date | str) -> str:
    try:
        return parse_day(value).isoformat()
    except ValueError as err:
        raise QualityError(str(err)) from None


# -- the whole step ---------------------------------------------------------------------------------------------
def validate_partition(
    storage: LakeStorage,
    layout: LakeLayout,
    account_id: str,
    call_date: dt.date | str,
    suite_path: str | Path | None = None,
    *,
    record: bool = True,
    gx_fingerprint: bool = False,
    verify: str = "manifest",
) -> QualityResult:
    """Validate one published partition; write ``validation.{json,html,pdf}`` and (``record``) its verdict.

    :param storage: S3 access to the lake's bucket.
    :param layout: the lake layout (``LakeLayout.from_uri(lake_uri)``).
    :param account_id: the partition's account.
    :param call_date: the partition's day (date or ``YYYY-MM-DD``).
    :param suite_path: a GX 1.x suite file; None uses the suite shipped with the provider.
    :param record: write the result files and ``verdict.json`` (False: only compute).
    :param verify: how the parts are checked against the manifest first: ``"manifest"`` (size and ETag) or
        ``"full"`` (also the sha256 of every part's bytes).
    :param gx_fingerprint: let GX md5 the whole DataFrame to label the batch (off: the manifest's
        content_sha256 identifies the data, and the hash is most of GX's time).
    """
    started = time.perf_counter()
    day = _iso_day(call_date)
    suite = load_suite(suite_path)
    manifest = _published_manifest(storage, layout, account_id, day)
    # The parts must be the ones the manifest recorded before their content is judged (a corrupt, truncated
    # or deleted part raises PartitionIntegrityError, naming the partition and the part).
    check_partition(storage, layout, account_id, day, manifest, verify)
    table = _read_partition(storage, manifest.part_keys(layout.partition_prefix(account_id, day)), suite)
    rows = table.num_rows
    t0 = time.perf_counter()
    gx_result = run_gx(table, suite, suite_parameters(manifest), fingerprint=gx_fingerprint)
    del table
    checks = checks_from_gx(suite, gx_result) + reconciliation_checks(manifest)
    log.info(
        "Validated %d expectations on %d rows in %.2fs (%.0f rows/s)",
        len(checks),
        rows,
        time.perf_counter() - t0,
        rows / max(time.perf_counter() - t0, 1e-9),
    )
    result = QualityResult(
        account_id=account_id,
        call_date=day,
        status=status_of(checks),
        rows=rows,
        suite_name=suite.name,
        suite_source=suite.source,
        suite_sha256=suite.sha256,
        checks=checks,
        content_sha256=manifest.content_sha256,
        validated_at=utc_now_iso(),
    )
    if record:
        record_validation(storage, layout, result, gx_result, manifest)
    result.seconds = time.perf_counter() - started
    return result


def _published_manifest(storage: LakeStorage, layout: LakeLayout, account_id: str, day: str) -> Manifest:
    """The day's manifest; :class:`QualityError` when the day was never published."""
    manifest = partition_manifest(storage, layout, account_id, day)
    if manifest is None:
        raise QualityError(
            f"no published partition for account {account_id} on {day}: "
            f"s3://{storage.bucket}/{layout.manifest_key(account_id, day)} does not exist"
        )
    return manifest


def _read_partition(storage: LakeStorage, keys: list[str], suite: Suite) -> pa.Table:
    """The parts' rows, only the columns the suite reads."""
    t0 = time.perf_counter()
    table = read_columns(storage, keys, suite.columns)
    log.info(
        "Read %d rows, %d of %d columns, from %d part(s) in %.2fs",
        table.num_rows,
        table.num_columns,
        len(FILE_SCHEMA),
        len(keys),
        time.perf_counter() - t0,
    )
    return table


__all__ = [
    "PARTIAL_UNEXPECTED_COUNT",
    "CheckResult",
    "QualityError",
    "QualityResult",
    "checks_from_gx",
    "describe_condition",
    "read_columns",
    "reconciliation_checks",
    "run_gx",
    "status_of",
    "suite_parameters",
    "validate_partition",
]
