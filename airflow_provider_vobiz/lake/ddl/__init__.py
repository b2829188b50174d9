"""Table definitions of the lake for Athena, Spark, Trino and DuckDB, generated from the one CDR schema.

::

    python -m airflow_provider_vobiz.lake.ddl --engine athena --lake-uri s3://vobiz-lake/lake
    python -m airflow_provider_vobiz.lake.ddl --engine duckdb --lake-uri demo-output/lake --dataset cdr

Columns and types come from the one CDR schema (:mod:`.tables`); so a new field or a moved dataset changes
every engine's table at once. Tables point at the dataset's root and read its Hive partition folders
(``account_id=…/call_date=…/``): no file name is assumed, and the manifest and anything else whose name
starts with ``_`` or ``.`` is ignored, as Hive, Athena, Spark and Trino do.

One module per engine (:mod:`.athena`, :mod:`.spark`, :mod:`.trino`, :mod:`.duckdb`), the script of them
in :mod:`.script`, the command in :mod:`.cli`:

- **Athena**: ``CREATE EXTERNAL TABLE`` with partition projection (``account_id`` injected, ``call_date`` a
  date range up to today), so a new day is queryable at once and ``MSCK REPAIR`` is never needed. The Glue
  Data Catalog table of :func:`glue_table_input` is the same table.
- **Spark SQL**: a data-source table over the folders, then ``REPAIR TABLE … SYNC PARTITIONS`` (re-run it
  after new days, or after retention removed some).
- **Trino** (Hive connector): an external table, then ``system.sync_partition_metadata`` (same).
- **DuckDB**: a view over ``read_parquet`` / ``read_json`` with typed Hive partitions; nothing to repair.
"""

from __future__ import annotations

from airflow_provider_vobiz.lake.ddl.athena import (
    HIVE_STORAGE,
    glue_table_input,
    projection_properties,
    table_properties,
)
from airflow_provider_vobiz.lake.ddl.cli import main
from airflow_provider_vobiz.lake.ddl.script import ddl_script, split_statements, table_statements
from airflow_provider_vobiz.lake.ddl.tables import (
    CDR,
    CDR_TOKENISED,
    DEFAULT_DATABASE,
    DEFAULT_FIRST_DAY,
    DEFAULT_TRINO_CATALOG,
    ENGINES,
    PARTITION_COLUMNS,
    QUARANTINE,
    TABLES,
    Column,
    TableSpec,
    dataset_location,
    sql_type,
)

__all__ = [
    "CDR",
    "CDR_TOKENISED",
    "DEFAULT_DATABASE",
    "DEFAULT_FIRST_DAY",
    "DEFAULT_TRINO_CATALOG",
    "ENGINES",
    "HIVE_STORAGE",
    "PARTITION_COLUMNS",
    "QUARANTINE",
    "TABLES",
    "Column",
    "TableSpec",
    "dataset_location",
    "ddl_script",
    "glue_table_input",
    "main",
    "projection_properties",
    "split_statements",
    "sql_type",
    "table_properties",
    "table_statements",
]
