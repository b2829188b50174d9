"""Table definitions of the lake for Athena, Spark, Trino and DuckDB, generated from the one CDR schema.

::

    python -m airflow_provider_vobiz.lake.ddl --engine athena --lake-uri s3://vobiz-lake/lake
    python -m airflow_provider_vobiz.lake.ddl --engine duckdb --lake-uri demo-output/lake --dataset cdr

Columns, types and comments come from :mod:`airflow_provider_vobiz.cdr.schema`, the partition keys and their
types from the readers' partitioning (:data:`airflow_provider_vobiz.lake.read.PARTITIONING`) and the
dataset roots from :class:`~airflow_provider_vobiz.lake.paths.LakeLayout`; so a new field or a moved dataset
changes every engine's table at once. Tables point at the dataset's root and read its Hive partition folders
(``account_id=…/call_date=…/``): no file name is assumed, and the manifest and anything else whose name
starts with ``_`` or ``.`` is ignored, as Hive, Athena, Spark and Trino do.

- **Athena**: ``CREATE EXTERNAL TABLE`` with partition projection (``account_id`` injected, ``call_date`` a
  date range up to today), so a new day is queryable at once and ``MSCK REPAIR`` is never needed. The Glue
  Data Catalog table of :func:`glue_table_input` is the same table.
- **Spark SQL**: a data-source table over the folders, then ``REPAIR TABLE … SYNC PARTITIONS`` (re-run it
  after new days, or after retention removed some).
- **Trino** (Hive connector): an external table, then ``system.sync_partition_metadata`` (same).
- **DuckDB**: a view over ``read_parquet`` / ``read_json`` with typed Hive partitions; nothing to repair.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from airflow_provider_vobiz.cdr.schema import EXTRA_COLUMN, FIELDS_BY_NAME, FILE_SCHEMA, SCHEMA_VERSION
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.read import PARTITIONING

ENGINES: tuple[str, ...] = ("athena", "spark", "trino", "duckdb")
DEFAULT_DATABASE = "vobiz"
DEFAULT_TRINO_CATALOG = "hive"
#: First day Athena's partition projection lists; days without data cost nothing.
DEFAULT_FIRST_DAY = "2020-01-01"

_PARQUET = "parquet"
_JSON_LINES = "jsonl"


@dataclass(frozen=True)
class Column:
    """A table column: its Arrow type and comment; ``json`` marks JSON text (DuckDB's ``JSON`` type)."""

    name: str
    type: pa.DataType
    comment: str
    json: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One dataset of the lake as a table.

    :param dataset: the dataset's name (``cdr``, ``cdr_tokenised``, ``quarantine``).
    :param table: the default table name.
    :param root: the dataset's key prefix in a layout.
    :param fmt: ``parquet`` or ``jsonl`` (one JSON object per line).
    :param columns: the data columns, in file order; the partition keys follow them.
    :param comment: the table's comment.
    """

    dataset: str
    table: str
    root: Callable[[LakeLayout], str]
    fmt: str
    columns: tuple[Column, ...]
    comment: str


_PARTITION_COMMENTS = {
    "account_id": "Vobiz account (auth id); from the account_id= folder.",
    "call_date": "Calendar day of start_time in the lake's timezone (Asia/Kolkata by default); from the call_date= folder.",
}
PARTITION_COLUMNS: tuple[Column, ...] = tuple(
    Column(f.name, f.type, _PARTITION_COMMENTS[f.name]) for f in PARTITIONING.schema
)

CDR = TableSpec(
    dataset="cdr",
    table="cdr",
    root=lambda layout: layout.cdr_root,
    fmt=_PARQUET,
    columns=tuple(
        Column(
            f.name,
            f.type,
            FIELDS_BY_NAME[f.name].description
            if f.name in FIELDS_BY_NAME
            else "Fields the API does not document (yet), as JSON text.",
            json=f.name == EXTRA_COLUMN,
        )
        for f in FILE_SCHEMA
    ),
    comment=f"Vobiz CDRs, one partition per account and day (Parquet schema version {SCHEMA_VERSION}).",
)
CDR_TOKENISED = TableSpec(
    dataset="cdr_tokenised",
    table="cdr_tokenised",
    root=lambda layout: layout.tokenised().cdr_root,
    fmt=_PARQUET,
    columns=CDR.columns,
    comment="Vobiz CDRs with every phone number (and number-like text) as its keyed HMAC-SHA256 token.",
)
QUARANTINE = TableSpec(
    dataset="quarantine",
    table="cdr_quarantine",
    root=lambda layout: layout.quarantine_root,
    fmt=_JSON_LINES,
    columns=(
        Column("reason", pa.string(), "Why the record could not be kept."),
        Column("record", pa.string(), "The record as the API sent it, as JSON text.", json=True),
    ),
    comment="Vobiz CDRs that could not be typed, with the reason, per account and day.",
)
TABLES: dict[str, TableSpec] = {spec.dataset: spec for spec in (CDR, CDR_TOKENISED, QUARANTINE)}

_SIMPLE_TYPES: dict[pa.DataType, dict[str, str]] = {
    pa.int64(): {"athena": "bigint", "spark": "BIGINT", "trino": "bigint", "duckdb": "BIGINT"},
    pa.string(): {"athena": "string", "spark": "STRING", "trino": "varchar", "duckdb": "VARCHAR"},
    pa.float64(): {"athena": "double", "spark": "DOUBLE", "trino": "double", "duckdb": "DOUBLE"},
    pa.date32(): {"athena": "date", "spark": "DATE", "trino": "date", "duckdb": "DATE"},
    # Instants (UTC). Trino's Hive connector reads them at its configured precision (milliseconds unless
    # hive.timestamp-precision says otherwise); Athena reads milliseconds.
    pa.timestamp("us", tz="UTC"): {
        "athena": "timestamp",
        "spark": "TIMESTAMP",
        "trino": "timestamp",
        "duckdb": "TIMESTAMPTZ",
    },
}


def sql_type(column: Column, engine: str) -> str:
    """The column's type in ``engine``'s SQL (Athena's is also the Glue Data Catalog's Hive type)."""
    _check_engine(engine)
    if column.json and engine == "duckdb":
        return "JSON"
    if pa.types.is_decimal(column.type):
        name = "DECIMAL" if engine in ("spark", "duckdb") else "decimal"
        return f"{name}({column.type.precision},{column.type.scale})"
    try:
        return _SIMPLE_TYPES[column.type][engine]
    except KeyError:
        raise ValueError(
            f"column {column.name!r} has Arrow type {column.type}, which has no {engine} mapping in "
            "lake/ddl.py: add one there"
        ) from None


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def dataset_location(lake_uri: str, spec: TableSpec, engine: str) -> str:
    """Where ``engine`` finds the dataset's root, ending with a slash.

    An ``s3://`` (or ``s3a://``, for Spark with hadoop-aws) lake gives ``scheme://bucket/prefix/<root>/``. A
    local directory (a copy of the lake) is accepted for Spark (as a ``file:`` URI) and DuckDB (a path).
    """
    _check_engine(engine)
    scheme, sep, rest = str(lake_uri).partition("://")
    if sep and scheme in ("s3", "s3a"):
        layout = LakeLayout.from_uri("s3://" + rest)
        return f"{scheme}://{layout.bucket}/{spec.root(layout)}"
    if engine in ("athena", "trino"):
        raise ValueError(
            f"{engine} reads the lake on S3: pass --lake-uri s3://bucket/prefix, got {lake_uri!r}"
        )
    if sep and scheme != "file":
        raise ValueError(f"lake_uri must be s3://bucket/prefix or a local directory, got {lake_uri!r}")
    root = Path(rest if sep else lake_uri).expanduser().resolve()
    # The dataset's root key relative to the lake root: the layout of a lake with no prefix.
    relative = spec.root(LakeLayout(bucket="local"))
    return (root / relative).as_uri() + "/" if engine == "spark" else f"{root / relative}/"


def _literal(value: str, engine: str) -> str:
    """A SQL string literal: Hive-family engines escape with a backslash, Trino and DuckDB double the quote."""
    if engine in ("athena", "spark"):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str, engine: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{name!r} is not a valid table, database or column name (letters, digits, _)")
    return f"`{name}`" if engine in ("athena", "spark") else f'"{name}"'


def _column_lines(columns: Sequence[Column], engine: str) -> str:
    return ",\n".join(
        f"  {_ident(c.name, engine)} {sql_type(c, engine)} COMMENT {_literal(c.comment, engine)}"
        for c in columns
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
        "classification": "parquet" if spec.fmt == _PARQUET else "json",
        "vobiz.dataset": spec.dataset,
        "vobiz.schema_version": str(SCHEMA_VERSION),
        **projection_properties(first_day),
    }


#: Hive storage of each format (Athena's DDL and the Glue table's StorageDescriptor).
HIVE_STORAGE: dict[str, dict[str, Any]] = {
    _PARQUET: {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    },
    _JSON_LINES: {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
    },
}


def _athena(spec: TableSpec, location: str, database: str, table: str, first_day: str) -> list[str]:
    storage = HIVE_STORAGE[spec.fmt]
    props = ",\n".join(
        f"  {_literal(k, 'athena')} = {_literal(v, 'athena')}"
        for k, v in table_properties(spec, first_day).items()
    )
    fmt = (
        "STORED AS PARQUET"
        if spec.fmt == _PARQUET
        else f"ROW FORMAT SERDE {_literal(storage['SerdeInfo']['SerializationLibrary'], 'athena')}"
    )
    return [
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {_ident(database, 'athena')}.{_ident(table, 'athena')} (\n"
        f"{_column_lines(spec.columns, 'athena')}\n)\n"
        f"COMMENT {_literal(spec.comment, 'athena')}\n"
        f"PARTITIONED BY (\n{_column_lines(PARTITION_COLUMNS, 'athena')}\n)\n"
        f"{fmt}\n"
        f"LOCATION {_literal(location, 'athena')}\n"
        f"TBLPROPERTIES (\n{props}\n)"
    ]


def _spark(spec: TableSpec, location: str, database: str, table: str) -> list[str]:
    name = f"{_ident(database, 'spark')}.{_ident(table, 'spark')}"
    keys = ", ".join(_ident(c.name, "spark") for c in PARTITION_COLUMNS)
    return [
        f"CREATE DATABASE IF NOT EXISTS {_ident(database, 'spark')}",
        f"CREATE TABLE IF NOT EXISTS {name} (\n"
        f"{_column_lines(spec.columns + PARTITION_COLUMNS, 'spark')}\n)\n"
        f"USING {'PARQUET' if spec.fmt == _PARQUET else 'JSON'}\n"
        f"PARTITIONED BY ({keys})\n"
        f"LOCATION {_literal(location, 'spark')}\n"
        f"COMMENT {_literal(spec.comment, 'spark')}\n"
        f"TBLPROPERTIES ('vobiz.schema_version' = '{SCHEMA_VERSION}')",
        # The catalog lists partitions: add new days' folders, drop those retention removed.
        f"REPAIR TABLE {name} SYNC PARTITIONS",
    ]


def _trino(spec: TableSpec, location: str, database: str, table: str, catalog: str) -> list[str]:
    schema = f"{_ident(catalog, 'trino')}.{_ident(database, 'trino')}"
    keys = ", ".join(_literal(c.name, "trino") for c in PARTITION_COLUMNS)
    # OPENX_JSON returns a nested object as its JSON text in a varchar column, like Athena's SerDe.
    fmt = "PARQUET" if spec.fmt == _PARQUET else "OPENX_JSON"
    return [
        f"CREATE SCHEMA IF NOT EXISTS {schema}",
        f"CREATE TABLE IF NOT EXISTS {schema}.{_ident(table, 'trino')} (\n"
        f"{_column_lines(spec.columns + PARTITION_COLUMNS, 'trino')}\n)\n"
        f"COMMENT {_literal(spec.comment, 'trino')}\n"
        f"WITH (\n  external_location = {_literal(location, 'trino')},\n  format = '{fmt}',\n"
        f"  partitioned_by = ARRAY[{keys}]\n)",
        f"CALL {_ident(catalog, 'trino')}.system.sync_partition_metadata("
        f"{_literal(database, 'trino')}, {_literal(table, 'trino')}, 'FULL')",
    ]


def _duckdb(spec: TableSpec, location: str, database: str, table: str) -> list[str]:
    hive_types = ", ".join(
        f"{_literal(c.name, 'duckdb')}: {_literal(sql_type(c, 'duckdb'), 'duckdb')}"
        for c in PARTITION_COLUMNS
    )
    # One file level below account_id=…/call_date=…/, skipping _manifest-like and hidden files (as Hive does).
    pattern = _literal(location + "*/*/[!_.]*." + ("parquet" if spec.fmt == _PARQUET else "jsonl"), "duckdb")
    if spec.fmt == _PARQUET:
        source = (
            f"read_parquet({pattern}, hive_partitioning = true, "
            f"hive_types = {{{hive_types}}}, union_by_name = true)"
        )
    else:
        columns = ", ".join(
            f"{_literal(c.name, 'duckdb')}: {_literal(sql_type(c, 'duckdb'), 'duckdb')}" for c in spec.columns
        )
        source = (
            f"read_json({pattern}, format = 'newline_delimited', columns = {{{columns}}}, "
            f"hive_partitioning = true, hive_types = {{{hive_types}}})"
        )
    select = ",\n  ".join(_ident(c.name, "duckdb") for c in spec.columns + PARTITION_COLUMNS)
    return [
        f"CREATE SCHEMA IF NOT EXISTS {_ident(database, 'duckdb')}",
        f"CREATE OR REPLACE VIEW {_ident(database, 'duckdb')}.{_ident(table, 'duckdb')} AS\n"
        f"SELECT\n  {select}\nFROM {source}",
    ]


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
    _check_engine(engine)
    if dataset not in TABLES:
        raise ValueError(f"dataset must be one of {', '.join(TABLES)}, got {dataset!r}")
    spec = TABLES[dataset]
    table = table or spec.table
    location = dataset_location(lake_uri, spec, engine)
    if engine == "athena":
        return _athena(spec, location, database, table, first_day)
    if engine == "spark":
        return _spark(spec, location, database, table)
    if engine == "trino":
        return _trino(spec, location, database, table, catalog)
    return _duckdb(spec, location, database, table)


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


if __name__ == "__main__":
    raise SystemExit(main())
