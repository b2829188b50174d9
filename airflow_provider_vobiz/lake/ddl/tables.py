"""The lake's datasets as tables: their columns from the one CDR schema, and each engine's SQL types.

Columns, types and comments come from :mod:`airflow_provider_vobiz.cdr.schema`, the partition keys and their
types from the readers' partitioning (:data:`airflow_provider_vobiz.lake.read.PARTITIONING`) and the
dataset roots from :class:`~airflow_provider_vobiz.lake.paths.LakeLayout`; so a new field or a moved dataset
changes every engine's table at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from airflow_provider_vobiz.cdr.schema import EXTRA_COLUMN, FIELDS_BY_NAME, FILE_SCHEMA, SCHEMA_VERSION
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.read import PARTITIONING

ENGINES: tuple[str, ...] = ("athena", "spark", "trino", "duckdb")
DEFAULT_DATABASE = "vobiz"
DEFAULT_TRINO_CATALOG = "hive"
#: First day Athena's partition projection lists; days without data cost nothing.
DEFAULT_FIRST_DAY = "2020-01-01"

PARQUET = "parquet"
JSON_LINES = "jsonl"


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
    fmt=PARQUET,
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
    fmt=PARQUET,
    columns=CDR.columns,
    comment="Vobiz CDRs with every phone number (and number-like text) as its keyed HMAC-SHA256 token.",
)
QUARANTINE = TableSpec(
    dataset="quarantine",
    table="cdr_quarantine",
    root=lambda layout: layout.quarantine_root,
    fmt=JSON_LINES,
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
    check_engine(engine)
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
            "lake/ddl/tables.py: add one there"
        ) from None


def check_engine(engine: str) -> None:
    """Raise ValueError unless ``engine`` is one of :data:`ENGINES`."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def dataset_location(lake_uri: str, spec: TableSpec, engine: str) -> str:
    """Where ``engine`` finds the dataset's root, ending with a slash.

    An ``s3://`` (or ``s3a://``, for Spark with hadoop-aws) lake gives ``scheme://bucket/prefix/<root>/``. A
    local directory (a copy of the lake) is accepted for Spark (as a ``file:`` URI) and DuckDB (a path).
    """
    check_engine(engine)
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


def literal(value: str, engine: str) -> str:
    """A SQL string literal: Hive-family engines escape with a backslash, Trino and DuckDB double the quote."""
    if engine in ("athena", "spark"):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "''") + "'"


def ident(name: str, engine: str) -> str:
    """A quoted identifier; raises ValueError for a name that is not letters, digits and ``_``."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{name!r} is not a valid table, database or column name (letters, digits, _)")
    return f"`{name}`" if engine in ("athena", "spark") else f'"{name}"'


def column_lines(columns: Sequence[Column], engine: str) -> str:
    """The column list of a ``CREATE TABLE``: name, type and comment, one per line."""
    return ",\n".join(
        f"  {ident(c.name, engine)} {sql_type(c, engine)} COMMENT {literal(c.comment, engine)}"
        for c in columns
    )
