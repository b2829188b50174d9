"""The statements of a dataset for an engine, and a whole script of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_vobiz.lake.ddl import athena, duckdb, spark, trino
from airflow_provider_vobiz.lake.ddl.tables import (
    DEFAULT_DATABASE,
    DEFAULT_FIRST_DAY,
    DEFAULT_TRINO_CATALOG,
    TABLES,
    check_engine,
    dataset_location,
)


def table_statements(
    engine: str,
    lake_uri: str,
    dataset: str = "cdr",
    *,
    database: str = DEFAULT_DATABASE,
    table: str | None = None,
    catalog: str = DEFAULT_TRINO_CATALOG,
    first_day: str = DEFAULT_FIRST_DAY,
) -> list[str]:
    """The SQL statements (without a trailing ``;``) that make ``dataset`` a table in ``engine``.

    :param engine: ``athena``, ``spark``, ``trino`` or ``duckdb``.
    :param lake_uri: the lake root, ``s3://bucket/prefix`` (or a local copy for Spark and DuckDB).
    :param dataset: ``cdr``, ``cdr_tokenised`` or ``quarantine``.
    :param database: the database (Athena/Glue, Spark), schema (Trino, DuckDB).
    :param table: the table name; default: the dataset's (``cdr``, ``cdr_tokenised``, ``cdr_quarantine``).
    :param catalog: Trino's Hive catalog.
    :param first_day: Athena's partition projection starts here (``YYYY-MM-DD``).
    """
    check_engine(engine)
    if dataset not in TABLES:
        raise ValueError(f"dataset must be one of {', '.join(TABLES)}, got {dataset!r}")
    spec = TABLES[dataset]
    table = table or spec.table
    location = dataset_location(lake_uri, spec, engine)
    if engine == "athena":
        return athena.statements(spec, location, database, table, first_day)
    if engine == "spark":
        return spark.statements(spec, location, database, table)
    if engine == "trino":
        return trino.statements(spec, location, database, table, catalog)
    return duckdb.statements(spec, location, database, table)


def ddl_script(
    engine: str,
    lake_uri: str,
    datasets: Sequence[str] = tuple(TABLES),
    *,
    table: str | None = None,
    **kwargs: Any,
) -> str:
    """Every statement for ``datasets`` as one script, each ending with ``;`` and a blank line."""
    if table and len(datasets) != 1:
        raise ValueError("--table names one table: choose one --dataset with it")
    statements: list[str] = []
    for dataset in datasets:
        for statement in table_statements(engine, lake_uri, dataset, table=table, **kwargs):
            if statement not in statements:  # CREATE DATABASE/SCHEMA once
                statements.append(statement)
    return "".join(f"{s};\n\n" for s in statements).rstrip("\n") + "\n"


def split_statements(script: str) -> list[str]:
    """The statements of a :func:`ddl_script` (for clients that run one at a time, like Athena and Spark)."""
    return [s.strip() for s in script.split(";\n") if s.strip()]
