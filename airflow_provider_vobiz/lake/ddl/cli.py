"""``python -m airflow_provider_vobiz.lake.ddl``: print the lake's table definitions for a query engine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from airflow_provider_vobiz.lake.ddl.script import ddl_script
from airflow_provider_vobiz.lake.ddl.tables import (
    DEFAULT_DATABASE,
    DEFAULT_FIRST_DAY,
    DEFAULT_TRINO_CATALOG,
    ENGINES,
    TABLES,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_vobiz.lake.ddl",
        description="Print the table definitions of the Vobiz lake for a query engine.",
    )
    parser.add_argument("--engine", required=True, choices=ENGINES)
    parser.add_argument(
        "--lake-uri", required=True, help="s3://bucket/prefix (Spark and DuckDB: also a local copy)"
    )
    parser.add_argument("--dataset", choices=[*TABLES, "all"], default="all", help="default: all")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database / schema (default: vobiz)")
    parser.add_argument(
        "--table",
        help="table name (with one --dataset); default: the dataset's name (quarantine: cdr_quarantine)",
    )
    parser.add_argument(
        "--catalog", default=DEFAULT_TRINO_CATALOG, help="Trino's Hive catalog (default: hive)"
    )
    parser.add_argument(
        "--first-day", default=DEFAULT_FIRST_DAY, help="Athena projection's first day (default: 2020-01-01)"
    )
    args = parser.parse_args(argv)
    datasets = list(TABLES) if args.dataset == "all" else [args.dataset]
    try:
        script = ddl_script(
            args.engine,
            args.lake_uri,
            datasets,
            table=args.table,
            database=args.database,
            catalog=args.catalog,
            first_day=args.first_day,
        )
    except ValueError as err:
        parser.error(str(err))
    sys.stdout.write(script)
    return 0
