"""Trino (Hive connector): an external table, then ``system.sync_partition_metadata``.

Re-run the sync after new days, or after retention removed some.
"""

from __future__ import annotations

from airflow_provider_vobiz.lake.ddl.tables import (
    PARQUET,
    PARTITION_COLUMNS,
    TableSpec,
    column_lines,
    ident,
    literal,
)


def statements(spec: TableSpec, location: str, database: str, table: str, catalog: str) -> list[str]:
    """The schema, the external table and the sync of its partitions."""
    schema = f"{ident(catalog, 'trino')}.{ident(database, 'trino')}"
    keys = ", ".join(literal(c.name, "trino") for c in PARTITION_COLUMNS)
    # OPENX_JSON returns a nested object as its JSON text in a varchar column, like Athena's SerDe.
    fmt = "PARQUET" if spec.fmt == PARQUET else "OPENX_JSON"
    return [
        f"CREATE SCHEMA IF NOT EXISTS {schema}",
        f"CREATE TABLE IF NOT EXISTS {schema}.{ident(table, 'trino')} (\n"
        f"{column_lines(spec.columns + PARTITION_COLUMNS, 'trino')}\n)\n"
        f"COMMENT {literal(spec.comment, 'trino')}\n"
        f"WITH (\n  external_location = {literal(location, 'trino')},\n  format = '{fmt}',\n"
        f"  partitioned_by = ARRAY[{keys}]\n)",
        f"CALL {ident(catalog, 'trino')}.system.sync_partition_metadata("
        f"{literal(database, 'trino')}, {literal(table, 'trino')}, 'FULL')",
    ]
