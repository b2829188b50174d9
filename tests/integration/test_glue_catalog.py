"""VobizGlueCatalogTableOperator against moto's Glue API on loopback: the table as generated, idempotent."""

from __future__ import annotations

import boto3
import pytest

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake.ddl import table_statements
from airflow_provider_vobiz.operators.glue import VobizGlueCatalogTableOperator

pytestmark = pytest.mark.integration


def _glue(s3_lake):
    return boto3.client(
        "glue",
        endpoint_url=s3_lake.server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def test_the_cdr_table_is_registered_as_generated_then_left_or_updated(s3_lake):
    database = f"vobiz_{s3_lake.bucket.replace('-', '_')}"
    op = VobizGlueCatalogTableOperator(task_id="glue", lake_uri="{{ params.lake }}", database=database)
    op.render_template_fields({"params": {"lake": s3_lake.uri}})
    result = op.execute({})
    assert result == {
        "database": database,
        "table": "cdr",
        "dataset": "cdr",
        "location": f"{s3_lake.uri}/cdr/",
        "columns": len(FILE_SCHEMA),
        "action": "created",
    }
    table = _glue(s3_lake).get_table(DatabaseName=database, Name="cdr")["Table"]
    sd = table["StorageDescriptor"]
    assert [c["Name"] for c in sd["Columns"]] == FILE_SCHEMA.names
    types = {c["Name"]: c["Type"] for c in sd["Columns"]}
    assert (types["duration"], types["answer_time"], types["cost"], types["jitter"], types["extra"]) == (
        "bigint",
        "timestamp",
        "decimal(18,6)",
        "double",
        "string",
    )
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
        ("account_id", "string"),
        ("call_date", "date"),
    ]
    assert sd["Location"] == f"{s3_lake.uri}/cdr/"
    assert (
        sd["SerdeInfo"]["SerializationLibrary"]
        == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    params = table["Parameters"]
    assert params["projection.enabled"] == "true" and params["projection.account_id.type"] == "injected"
    assert params["projection.call_date.range"] == "2020-01-01,NOW"
    # The catalog's columns are the Athena DDL's, column for column.
    (create,) = table_statements("athena", s3_lake.uri)
    for c in sd["Columns"] + table["PartitionKeys"]:
        assert f"`{c['Name']}` {c['Type']} COMMENT" in create

    assert op.execute({})["action"] == "unchanged"
    moved = VobizGlueCatalogTableOperator(
        task_id="glue", lake_uri=s3_lake.uri, database=database, first_day="2025-01-01"
    )
    assert moved.execute({})["action"] == "updated"
    params = _glue(s3_lake).get_table(DatabaseName=database, Name="cdr")["Table"]["Parameters"]
    assert params["projection.call_date.range"] == "2025-01-01,NOW"


def test_the_quarantine_table_is_json(s3_lake):
    database = f"q_{s3_lake.bucket.replace('-', '_')}"
    op = VobizGlueCatalogTableOperator(
        task_id="glue", lake_uri=s3_lake.uri, database=database, dataset="quarantine"
    )
    assert op.execute({})["table"] == "cdr_quarantine"
    table = _glue(s3_lake).get_table(DatabaseName=database, Name="cdr_quarantine")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["reason", "record"]
    assert (
        table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
        == "org.openx.data.jsonserde.JsonSerDe"
    )
    assert table["Parameters"]["classification"] == "json"
