"""Athena (and the Glue Data Catalog): ``CREATE EXTERNAL TABLE`` with partition projection.

``account_id`` is injected and ``call_date`` a date range up to today, so a new day is queryable at once and
``MSCK REPAIR`` is never needed. The Glue Data Catalog table of :func:`glue_table_input` is the same table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vobiz.cdr.schema import SCHEMA_VERSION
from airflow_provider_vobiz.lake.ddl.tables import (
    DEFAULT_FIRST_DAY,
    JSON_LINES,
    PARQUET,
    PARTITION_COLUMNS,
    TABLES,
    TableSpec,
    column_lines,
    dataset_location,
    ident,
    literal,
    sql_type,
)


def projection_properties(first_day: str = DEFAULT_FIRST_DAY) -> dict[str, str]:
    """Athena partition projection: ``account_id`` injected (queries name it), ``call_date`` a day range."""
    dt.date.fromisoformat(first_day)
    return {
        "projection.enabled": "true",
        "projection.account_id.type": "injected",
        "projection.call_date.type": "date",
        "projection.call_date.format": "yyyy-MM-dd",
        "projection.call_date.range": f"{first_day},NOW",
        "projection.call_date.interval": "1",
        "projection.call_date.interval.unit": "DAYS",
    }


def table_properties(spec: TableSpec, first_day: str = DEFAULT_FIRST_DAY) -> dict[str, str]:
    """Athena/Glue table parameters: classification, schema version and partition projection."""
    return {
        "classification": "parquet" if spec.fmt == PARQUET else "json",
        "vobiz.dataset": spec.dataset,
        "vobiz.schema_version": str(SCHEMA_VERSION),
        **projection_properties(first_day),
    }


#: Hive storage of each format (Athena's DDL and the Glue table's StorageDescriptor).
HIVE_STORAGE: dict[str, dict[str, Any]] = {
    PARQUET: {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    },
    JSON_LINES: {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
    },
}


def statements(spec: TableSpec, location: str, database: str, table: str, first_day: str) -> list[str]:
    """The ``CREATE EXTERNAL TABLE`` of ``spec`` (projection: no partition to repair)."""
    storage = HIVE_STORAGE[spec.fmt]
    props = ",\n".join(
        f"  {literal(k, 'athena')} = {literal(v, 'athena')}"
        for k, v in table_properties(spec, first_day).items()
    )
    fmt = (
        "STORED AS PARQUET"
        if spec.fmt == PARQUET
        else f"ROW FORMAT SERDE {literal(storage['SerdeInfo']['SerializationLibrary'], 'athena')}"
    )
    return [
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {ident(database, 'athena')}.{ident(table, 'athena')} (\n"
        f"{column_lines(spec.columns, 'athena')}\n)\n"
        f"COMMENT {literal(spec.comment, 'athena')}\n"
        f"PARTITIONED BY (\n{column_lines(PARTITION_COLUMNS, 'athena')}\n)\n"
        f"{fmt}\n"
        f"LOCATION {literal(location, 'athena')}\n"
        f"TBLPROPERTIES (\n{props}\n)"
    ]


def glue_table_input(
    lake_uri: str,
    dataset: str = "cdr",
    *,
    table: str | None = None,
    first_day: str = DEFAULT_FIRST_DAY,
) -> dict[str, Any]:
    """The Glue Data Catalog ``TableInput`` of the same table as the Athena DDL (projection included)."""
    spec = TABLES[dataset]
    storage = HIVE_STORAGE[spec.fmt]
    return {
        "Name": table or spec.table,
        "Description": spec.comment,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", **table_properties(spec, first_day)},
        "PartitionKeys": [
            {"Name": c.name, "Type": sql_type(c, "athena"), "Comment": c.comment} for c in PARTITION_COLUMNS
        ],
        "StorageDescriptor": {
            "Columns": [
                {"Name": c.name, "Type": sql_type(c, "athena"), "Comment": c.comment} for c in spec.columns
            ],
            "Location": dataset_location(lake_uri, spec, "athena"),
            "InputFormat": storage["InputFormat"],
            "OutputFormat": storage["OutputFormat"],
            "SerdeInfo": dict(storage["SerdeInfo"]),
        },
    }
