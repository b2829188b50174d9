"""Validate one published partition with the Great Expectations suite and keep the result beside it.

Plain Python, no Airflow: :func:`validate_partition` reads the partition's parts (only the columns the suite
reads, through pyarrow's S3 filesystem), validates them in an ephemeral GX context, checks the extraction's
API reconciliation from the manifest, writes ``validation.json`` (the GX result, masked, plus a ``vobiz``
section in its ``meta``) and ``validation.html`` beside the partition, and records the verdict in
``verdict.json`` beside them (never in the manifest: a published manifest's bytes never change).

Statuses: ``failed`` when a critical expectation fails (or cannot be evaluated), ``warning`` when only
warnings fail, ``passed`` otherwise. Deciding what to do with ``failed`` is the caller's business: the
operator fails its task; :func:`validate_partition` itself only raises for things that prevent checking at
all (no manifest, an unreadable suite, S3 errors).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA, PHONE_FIELDS
from airflow_provider_vobiz.cdr.window import utc_now_iso
from airflow_provider_vobiz.lake.integrity import check_partition
from airflow_provider_vobiz.lake.manifest import (
    QUALITY_FAILED,
    QUALITY_PASSED,
    QUALITY_WARNING,
    Manifest,
)
from airflow_provider_vobiz.lake.read import partition_manifest, read_columns
from airflow_provider_vobiz.lake.records import write_quality
from airflow_provider_vobiz.privacy import mask_value
from airflow_provider_vobiz.quality.present import validation_page
from airflow_provider_vobiz.quality.render import mask_values
from airflow_provider_vobiz.quality.result import CheckResult, QualityResult
from airflow_provider_vobiz.quality.suite import Suite, load_suite

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)

#: Examples of unexpected values kept per expectation in validation.json (GX's BASIC result format).
PARTIAL_UNEXPECTED_COUNT = 10
_COLUMN_KWARGS = ("column", "column_A", "column_B")


class QualityError(Exception):
    """The partition could not be checked at all (as opposed to: it was checked and failed)."""


# -- Great Expectations ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_gx() -> Iterator[None]:
    """GX logs every datasource it adds at INFO; keep task logs to what matters."""
    logger = logging.getLogger("great_expectations")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _without_gx_fingerprint() -> Iterator[bool]:
    """Skip GX's md5 of the whole DataFrame (two thirds of its time at 1M rows).

    GX hashes every batch under 1 GB only to label it (``batch_markers.pandas_data_fingerprint``); the
    manifest's ``content_sha256`` (sha256 of the Parquet parts) already identifies what was validated. The
    knob is GX's private module constant ``HASH_THRESHOLD``: if a GX version drops it, nothing is patched
    and validation is merely slower. Yields whether the fingerprint was skipped.
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    if not hasattr(engine, "HASH_THRESHOLD"):
        yield False
        return
    saved = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0
    try:
        yield True
    finally:
        engine.HASH_THRESHOLD = saved


def run_gx(
    table: pa.Table, suite: Suite, parameters: dict[str, Any], *, fingerprint: bool = False
) -> dict[str, Any]:
    """Validate ``table`` with ``suite`` in an ephemeral GX context; return GX's result as JSON.

    ``table`` is consumed: its buffers are freed while it becomes a DataFrame (one copy of the day in
    memory, not two), so the caller must not use it afterwards.

    :param fingerprint: let GX hash the whole DataFrame to label the batch (slow; see
        :func:`_without_gx_fingerprint`).
    """
    # self_destruct frees each Arrow column once converted: the peak is one copy of the data, not two.
    df = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    with _quiet_gx():
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        # In memory, nothing on disk, no progress bars in task logs, no analytics.
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        batch_definition = (
            context.data_sources.add_pandas("vobiz_cdr")
            .add_dataframe_asset("partition")
            .add_batch_definition_whole_dataframe("whole_partition")
        )
        gx_suite = context.suites.add(suite.to_gx())
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="vobiz_cdr_partition", data=batch_definition, suite=gx_suite)
        )
        skip = contextlib.nullcontext(False) if fingerprint else _without_gx_fingerprint()
        with skip:
            result = definition.run(
                batch_parameters={"dataframe": df},
                expectation_parameters=parameters,
                result_format={
                    "result_format": "BASIC",
                    "partial_unexpected_count": PARTIAL_UNEXPECTED_COUNT,
                },
            )
    return result.to_json_dict()


def _columns_of(kwargs: dict[str, Any]) -> tuple[str, ...]:
    cols = [kwargs[k] for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    cols.extend(kwargs.get("column_list") or ())
    return tuple(cols)


def describe_condition(cond: Any) -> str | None:
    """A GX row condition in words: structured (GX 1.x) or a legacy parser string, as it is."""
    if not cond:
        return None
    if isinstance(cond, str):
        return cond
    if not isinstance(cond, dict):
        return str(cond)
    kind = cond.get("type")
    column = (cond.get("column") or {}).get("name", "?")
    if kind == "comparison":
        return f"{column} {cond.get('operator')} {cond.get('parameter')!r}"
    if kind == "nullity":
        return f"{column} is {'null' if cond.get('is_null', True) else 'not null'}"
    if kind in ("and", "or"):
        parts = [describe_condition(c) or "?" for c in cond.get("conditions") or ()]
        return f" {kind} ".join(f"({p})" for p in parts)
    return str(cond)


def _expected(exp_type: str, kwargs: dict[str, Any]) -> Any:
    if "value" in kwargs:
        return kwargs["value"]
    if "min_value" in kwargs or "max_value" in kwargs:
        return {"min": kwargs.get("min_value"), "max": kwargs.get("max_value")}
    return None


def checks_from_gx(suite: Suite, gx_result: dict[str, Any]) -> list[CheckResult]:
    """One :class:`CheckResult` per suite expectation, in suite order; masks phone numbers in place."""
    by_name: dict[str, dict[str, Any]] = {}
    for res in gx_result.get("results", []):
        cfg = res.get("expectation_config") or {}
        by_name[(cfg.get("meta") or {}).get("check", "")] = res
    checks = []
    for name, exp in zip(suite.check_names, suite.expectations, strict=True):
        res = by_name.get(name)
        kwargs = exp.get("kwargs", {})
        columns = _columns_of(kwargs)
        meta = exp.get("meta") or {}
        check = CheckResult(
            name=name,
            type=exp["type"],
            severity=exp.get("severity", "critical"),
            success=False,
            family=meta.get("family"),
            description=exp.get("description"),
            columns=columns,
            condition=describe_condition(kwargs.get("row_condition")),
        )
        if res is None:
            check.error = "GX returned no result for this expectation"
            checks.append(check)
            continue
        detail = res.get("result") or {}
        # Phone columns' values are numbers whole; any other column's text may hold one (privacy.py).
        detail = mask_values(detail) if set(columns) & set(PHONE_FIELDS) else mask_value(detail)
        res["result"] = detail
        # GX's error text and traceback can quote the offending values: stored masked like the values.
        res["exception_info"] = mask_value(res.get("exception_info"))
        check.error = _exception_message(res["exception_info"])
        check.success = bool(res.get("success")) and not check.error
        check.element_count = detail.get("element_count")
        check.unexpected_count = detail.get("unexpected_count")
        check.unexpected_percent = detail.get("unexpected_percent")
        check.examples = list(detail.get("partial_unexpected_list") or [])
        check.observed = detail.get("observed_value")
        check.expected = _expected(exp["type"], (res.get("expectation_config") or {}).get("kwargs") or kwargs)
        checks.append(check)
    return checks


def _exception_message(info: Any) -> str | None:
    """The first error GX caught for an expectation: its own shape, or a dict of them keyed by metric."""
    if not isinstance(info, dict):
        return None
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for exc in candidates:
        if exc.get("raised_exception"):
            message = str(exc.get("exception_message") or "error").strip()
            return message.splitlines()[0][:300] if message else "error"
    return None


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
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise QualityError(f"call_date {value!r} is not a calendar day (YYYY-MM-DD)") from None


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
    """Validate one published partition; write ``validation.{json,html}`` and (``record``) its verdict.

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
        _store(storage, layout, result, gx_result, manifest)
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


def _store(
    storage: LakeStorage,
    layout: LakeLayout,
    result: QualityResult,
    gx_result: dict[str, Any],
    manifest: Manifest,
) -> None:
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
    storage.put_bytes(
        result.html_key,
        validation_page(result, reconciliation),
        content_type="text/html; charset=utf-8",
    )
    write_quality(storage, layout, result.account_id, result.call_date, result.manifest_quality())
