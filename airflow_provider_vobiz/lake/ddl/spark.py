"""Spark SQL: a data-source table over the Hive folders, then ``REPAIR TABLE … SYNC PARTITIONS``.

Re-run the repair after new days, or after retention removed some.
"""

from __future__ import annotations

from airflow_provider_vobiz.cdr.schema import SCHEMA_VERSION
from airflow_provider_vobiz.lake.ddl.tables import (
    PARQUET,
    PARTITION_COLUMNS,
    TableSpec,
    column_lines,
    ident,
    literal,
)


def statements(spec: TableSpec, location: str, database: str, table: str) -> list[str]:
    """The database, the table over ``location`` and the repair of its partitions."""
    name = f"{ident(database, 'spark')}.{ident(table, 'spark')}"
    keys = ", ".join(ident(c.name, "spark") for c in PARTITION_COLUMNS)
    return [
        f"CREATE DATABASE IF NOT EXISTS {ident(database, 'spark')}",
        f"CREATE TABLE IF NOT EXISTS {name} (\n"
        f"{column_lines(spec.columns + PARTITION_COLUMNS, 'spark')}\n)\n"
        f"USING {'PARQUET' if spec.fmt == PARQUET else 'JSON'}\n"
        f"PARTITIONED BY ({keys})\n"
        f"LOCATION {literal(location, 'spark')}\n"
        f"COMMENT {literal(spec.comment, 'spark')}\n"
        f"TBLPROPERTIES ('vobiz.schema_version' = '{SCHEMA_VERSION}')",
        # The catalog lists partitions: add new days' folders, drop those retention removed.
        f"REPAIR TABLE {name} SYNC PARTITIONS",
    ]
