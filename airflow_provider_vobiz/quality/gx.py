"""Running the Great Expectations suite on a partition's rows, and reading GX's result as checks.

:func:`run_gx` validates a table in an ephemeral GX context (nothing on disk); :func:`checks_from_gx` turns
its JSON result into one :class:`~airflow_provider_vobiz.quality.result.CheckResult` per suite expectation,
masking the phone numbers GX quotes (:mod:`airflow_provider_vobiz.privacy`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.schema import PHONE_FIELDS
from airflow_provider_vobiz.privacy import mask_phone_values, mask_value
from airflow_provider_vobiz.quality.result import CheckResult
from airflow_provider_vobiz.quality.suite import Suite

#: Examples of unexpected values kept per expectation in validation.json (GX's BASIC result format).
PARTIAL_UNEXPECTED_COUNT = 10
_COLUMN_KWARGS = ("column", "column_A", "column_B")


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
        detail = mask_phone_values(detail) if set(columns) & set(PHONE_FIELDS) else mask_value(detail)
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


__all__ = ["PARTIAL_UNEXPECTED_COUNT", "checks_from_gx", "describe_condition", "run_gx"]
