"""OpenLineage datasets and facets of the provider's tasks, for ``apache-airflow-providers-openlineage``.

The operators return these from ``get_openlineage_facets_on_complete``; the OpenLineage listener sends them
with each task's COMPLETE event to the configured transport (``[openlineage] transport``):

- the Vobiz API query as the extract's input: namespace the API's base URL, name the account and the day;
- a CDR partition as a dataset in the lake's bucket (namespace ``s3://bucket``, name the partition folder),
  with the schema facet from :mod:`~airflow_provider_vobiz.cdr.schema` and, as an output, its row count and
  size; as an input of a report, its version (the manifest's ``content_sha256``);
- the quality check's assertions (each expectation, its column and severity) and metrics (rows, and the
  null counts the not-null expectations measured) as data-quality facets of the partition it read;
- report and validation files as datasets in the bucket.

OpenLineage's classes are imported here only, when a listener asks: nothing of it is needed to run a task.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    from airflow_provider_vobiz.lake.paths import LakeLayout

#: GX expectation types that measure a column's nulls (their unexpected count is the null count).
_NULL_EXPECTATIONS = ("expect_column_values_to_not_be_null",)


def api_namespace(base_url: str) -> str:
    """``scheme://host[:port]`` of the API's base URL (no path, no credentials)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


def api_input(base_url: str, account_id: str, call_date: str) -> InputDataset:
    """The Vobiz API's CDRs of one account and day, as the extract read them."""
    from openlineage.client.event_v2 import InputDataset

    return InputDataset(
        namespace=api_namespace(base_url), name=f"api/v1/Account/{account_id}/cdr/{call_date}"
    )


def schema_facet() -> Any:
    """The CDR table's columns (data columns, then the partition keys) with their Arrow types."""
    from openlineage.client.facet_v2 import schema_dataset

    from airflow_provider_vobiz.lake.ddl import CDR, PARTITION_COLUMNS

    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(
                name=c.name, type=str(c.type), description=c.comment, ordinal_position=i
            )
            for i, c in enumerate(CDR.columns + PARTITION_COLUMNS, start=1)
        ]
    )


def _s3_name(layout: LakeLayout, key: str) -> tuple[str, str]:
    return f"s3://{layout.bucket}", key.rstrip("/")


def partition_output(layout: LakeLayout, account_id: str, call_date: str, *, rows: int) -> OutputDataset:
    """A published CDR partition (of ``cdr/``, or of the tokenised zone with ``layout.tokenised()``):
    schema and row count."""
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset as stats

    namespace, name = _s3_name(layout, layout.partition_prefix(account_id, call_date))
    return OutputDataset(
        namespace=namespace,
        name=name,
        facets={"schema": schema_facet()},
        outputFacets={"outputStatistics": stats.OutputStatisticsOutputDatasetFacet(rowCount=rows)},
    )


def partition_input(
    layout: LakeLayout,
    account_id: str,
    call_date: str,
    *,
    version: str | None = None,
    input_facets: Mapping[str, Any] | None = None,
) -> InputDataset:
    """A CDR partition read by a task; ``version`` is its manifest's ``content_sha256``."""
    from openlineage.client.event_v2 import InputDataset
    from openlineage.client.facet_v2 import dataset_version_dataset

    namespace, name = _s3_name(layout, layout.partition_prefix(account_id, call_date))
    facets: dict[str, Any] = {"schema": schema_facet()}
    if version:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version)
    return InputDataset(namespace=namespace, name=name, facets=facets, inputFacets=dict(input_facets or {}))


def file_output(layout: LakeLayout, key_or_uri: str) -> OutputDataset:
    """An object the task wrote (a report, a validation result), by key in the lake's bucket or S3 URI."""
    from openlineage.client.event_v2 import OutputDataset

    if key_or_uri.startswith("s3://"):
        bucket, _, key = key_or_uri[len("s3://") :].partition("/")
        return OutputDataset(namespace=f"s3://{bucket}", name=key)
    namespace, name = _s3_name(layout, key_or_uri)
    return OutputDataset(namespace=namespace, name=name)


def quality_facets(checks: Iterable[Mapping[str, Any]], rows: int) -> dict[str, Any]:
    """``dataQualityAssertions`` (every expectation) and ``dataQualityMetrics`` (rows, null counts).

    :param checks: the checks of a validation, as dicts of
        :class:`~airflow_provider_vobiz.quality.validate.CheckResult` fields.
    """
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
    from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as dqm

    assertions = []
    columns: dict[str, Any] = {}
    for c in checks:
        cols = list(c.get("columns") or ())
        assertions.append(
            dqa.Assertion(
                assertion=str(c["type"]),
                success=bool(c["success"]),
                column=cols[0] if len(cols) == 1 else None,
                severity=c.get("severity"),
                name=c.get("name"),
                description=c.get("description"),
                actual=None if c.get("unexpected_count") is None else str(c["unexpected_count"]),
            )
        )
        if c["type"] in _NULL_EXPECTATIONS and len(cols) == 1 and c.get("unexpected_count") is not None:
            columns[cols[0]] = dqm.ColumnMetrics(nullCount=int(c["unexpected_count"]))
    return {
        "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(assertions=assertions),
        "dataQualityMetrics": dqm.DataQualityMetricsInputDatasetFacet(rowCount=rows, columnMetrics=columns),
    }


def operator_lineage(inputs: list[Any] | None = None, outputs: list[Any] | None = None) -> OperatorLineage:
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=list(inputs or []), outputs=list(outputs or []))


def published_lineage(
    summary: Mapping[str, Any] | None, layout: LakeLayout, inputs: list[Any] | None = None
) -> OperatorLineage:
    """A task that published a partition: ``inputs`` in, the partition ``summary`` names out (a publishing
    task's XCom: ``account_id``, ``call_date``, ``row_count``); nothing when it published nothing."""
    if summary is None:
        return operator_lineage()
    output = partition_output(layout, summary["account_id"], summary["call_date"], rows=summary["row_count"])
    return operator_lineage(inputs, [output])


def report_lineage(
    layout: LakeLayout, account_id: str, days: Iterable[Mapping[str, Any]], files: Iterable[str]
) -> OperatorLineage:
    """A report's inputs (each partition it read, versioned by its manifest) and outputs (its files, by key
    or S3 URI).

    :param days: ``{"call_date", "content_sha256"}`` of each partition read.
    """
    inputs = [
        partition_input(layout, account_id, str(d["call_date"]), version=d.get("content_sha256"))
        for d in days
    ]
    return operator_lineage(inputs, [file_output(layout, f) for f in files])
