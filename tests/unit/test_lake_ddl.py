"""lake/ddl.py: every engine's table is the one CDR schema, with the partition keys from the folders."""

from __future__ import annotations

import re

import pytest

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake import ddl

LAKE = "s3://vobiz-lake/lake"


def _columns(statement: str, quote: str) -> list[tuple[str, str]]:
    """(name, type) of each column line of a CREATE statement."""
    return re.findall(rf"^  {quote}(\w+){quote} ([\w(),]+)", statement, re.M)


def test_athena_table_has_every_schema_column_typed_and_projected_partitions():
    (create,) = ddl.table_statements("athena", LAKE)
    cols = _columns(create, "`")
    data, keys = cols[: len(FILE_SCHEMA)], cols[len(FILE_SCHEMA) :]
    assert [n for n, _ in data] == FILE_SCHEMA.names
    types = dict(data)
    assert (types["id"], types["uuid"], types["start_time"], types["total_cost"], types["mos"]) == (
        "bigint",
        "string",
        "timestamp",
        "decimal(18,6)",
        "double",
    )
    assert keys == [("account_id", "string"), ("call_date", "date")]
    assert create.startswith("CREATE EXTERNAL TABLE IF NOT EXISTS `vobiz`.`cdr` (")
    assert "STORED AS PARQUET\nLOCATION 's3://vobiz-lake/lake/cdr/'" in create
    for prop in (
        "'projection.enabled' = 'true'",
        "'projection.account_id.type' = 'injected'",
        "'projection.call_date.type' = 'date'",
        "'projection.call_date.format' = 'yyyy-MM-dd'",
        "'projection.call_date.range' = '2020-01-01,NOW'",
        "'projection.call_date.interval.unit' = 'DAYS'",
    ):
        assert prop in create
    assert "MSCK" not in create and "part-" not in create  # folders, not file names
    # An apostrophe in a comment is escaped the Hive way.
    assert "(Vobiz\\'s own, not Q.850)" in create


def test_quarantine_is_json_lines_in_every_engine():
    (athena,) = ddl.table_statements("athena", LAKE, "quarantine", first_day="2024-11-01")
    assert "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'" in athena
    assert "LOCATION 's3://vobiz-lake/lake/quarantine/'" in athena
    assert "'projection.call_date.range' = '2024-11-01,NOW'" in athena
    spark = ddl.table_statements("spark", "s3a://vobiz-lake/lake", "quarantine")
    assert "USING JSON" in spark[1] and "LOCATION 's3a://vobiz-lake/lake/quarantine/'" in spark[1]
    trino = ddl.table_statements("trino", LAKE, "quarantine")
    assert "format = 'OPENX_JSON'" in trino[1]
    duck = ddl.table_statements("duckdb", LAKE, "quarantine")[1]
    assert "read_json('s3://vobiz-lake/lake/quarantine/*/*/[!_.]*.jsonl'" in duck
    assert "'record': 'JSON'" in duck


def test_spark_and_trino_list_partitions_and_keep_keys_last():
    create_db, create, repair = ddl.table_statements("spark", LAKE, database="analytics", table="calls")
    assert create_db == "CREATE DATABASE IF NOT EXISTS `analytics`"
    assert [n for n, _ in _columns(create, "`")][-2:] == ["account_id", "call_date"]
    assert "PARTITIONED BY (`account_id`, `call_date`)" in create and "USING PARQUET" in create
    assert repair == "REPAIR TABLE `analytics`.`calls` SYNC PARTITIONS"
    schema, table, sync = ddl.table_statements("trino", LAKE, catalog="lake")
    assert schema == 'CREATE SCHEMA IF NOT EXISTS "lake"."vobiz"'
    assert dict(_columns(table, '"'))["total_cost"] == "decimal(18,6)"
    assert "partitioned_by = ARRAY['account_id', 'call_date']" in table
    assert "external_location = 's3://vobiz-lake/lake/cdr/'" in table
    assert sync == "CALL \"lake\".system.sync_partition_metadata('vobiz', 'cdr', 'FULL')"


def test_script_creates_the_database_once_and_splits_back_into_statements():
    script = ddl.ddl_script("spark", LAKE)
    statements = ddl.split_statements(script)
    assert statements.count("CREATE DATABASE IF NOT EXISTS `vobiz`") == 1
    # The database, then a table and its partition repair for each of cdr, cdr_tokenised, quarantine.
    assert len(statements) == 7 and script.endswith(";\n")


def test_glue_table_input_is_the_athena_table():
    table = ddl.glue_table_input(LAKE)
    (create,) = ddl.table_statements("athena", LAKE)
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"] + table["PartitionKeys"]] == _columns(create, "`")
    assert sd["Location"] == "s3://vobiz-lake/lake/cdr/"
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert table["Parameters"]["projection.account_id.type"] == "injected"
    assert table["TableType"] == "EXTERNAL_TABLE"


def test_cli_prints_the_script_and_refuses_bad_arguments(capsys):
    assert ddl.main(["--engine", "trino", "--lake-uri", LAKE, "--dataset", "cdr", "--table", "calls"]) == 0
    assert '"hive"."vobiz"."calls"' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        ddl.main(["--engine", "athena", "--lake-uri", "/tmp/lake"])
    assert "athena reads the lake on S3" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ddl.main(["--engine", "duckdb", "--lake-uri", LAKE, "--table", "calls"])
    assert "choose one --dataset" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a valid table"):
        ddl.table_statements("athena", LAKE, table="cdr; DROP TABLE x")


def test_the_tokenised_zone_is_the_cdr_table_beside_it():
    (cdr,) = ddl.table_statements("athena", LAKE)
    (zone,) = ddl.table_statements("athena", LAKE, "cdr_tokenised")
    assert _columns(zone, "`") == _columns(cdr, "`")
    assert "LOCATION 's3://vobiz-lake/lake/cdr_tokenised/'" in zone and "`vobiz`.`cdr_tokenised`" in zone
    assert ddl.glue_table_input(LAKE, "cdr_tokenised")["StorageDescriptor"]["Location"].endswith(
        "/cdr_tokenised/"
    )
