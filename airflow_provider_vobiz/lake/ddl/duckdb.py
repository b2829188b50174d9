"""DuckDB: a view over ``read_parquet`` / ``read_json`` with typed Hive partitions; nothing to repair."""

from __future__ import annotations

from airflow_provider_vobiz.lake.ddl.tables import (
    PARQUET,
    PARTITION_COLUMNS,
    TableSpec,
    ident,
    literal,
    sql_type,
)


def statements(spec: TableSpec, location: str, database: str, table: str) -> list[str]:
    """The schema and a view over the files under ``location``."""
    hive_types = ", ".join(
        f"{literal(c.name, 'duckdb')}: {literal(sql_type(c, 'duckdb'), 'duckdb')}" for c in PARTITION_COLUMNS
    )
    # One file level below account_id=…/call_date=…/, skipping _manifest-like and hidden files (as Hive does).
    pattern = literal(location + "*/*/[!_.]*." + ("parquet" if spec.fmt == PARQUET else "jsonl"), "duckdb")
    if spec.fmt == PARQUET:
        source = (
            f"read_parquet({pattern}, hive_partitioning = true, "
            f"hive_types = {{{hive_types}}}, union_by_name = true)"
        )
    else:
        columns = ", ".join(
            f"{literal(c.name, 'duckdb')}: {literal(sql_type(c, 'duckdb'), 'duckdb')}" for c in spec.columns
        )
        source = (
            f"read_json({pattern}, format = 'newline_delimited', columns = {{{columns}}}, "
            f"hive_partitioning = true, hive_types = {{{hive_types}}})"
        )
    select = ",\n  ".join(ident(c.name, "duckdb") for c in spec.columns + PARTITION_COLUMNS)
    return [
        f"CREATE SCHEMA IF NOT EXISTS {ident(database, 'duckdb')}",
        f"CREATE OR REPLACE VIEW {ident(database, 'duckdb')}.{ident(table, 'duckdb')} AS\n"
        f"SELECT\n  {select}\nFROM {source}",
    ]
