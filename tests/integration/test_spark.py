"""Apache Spark (local mode) reads the lake through the generated Spark DDL and agrees with DuckDB.

Needs Java (17+). Without it the test is skipped with the reason, except under CI=true, where it fails.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator

import duckdb
import pytest

from airflow_provider_vobiz.lake.ddl import ddl_script, split_statements
from tests.fixtures.consumer_lake import engine_section, run_doc_command
from tests.fixtures.system import require

pytestmark = pytest.mark.integration

#: Per IST day: the first and last call in IST wall-clock time, and the calls whose IST day is not call_date.
SPARK_EDGES = """
SELECT call_date,
       min(from_utc_timestamp(start_time, 'Asia/Kolkata')) AS first_call_ist,
       max(from_utc_timestamp(start_time, 'Asia/Kolkata')) AS last_call_ist,
       sum(CASE WHEN to_date(from_utc_timestamp(start_time, 'Asia/Kolkata')) <> call_date THEN 1 ELSE 0 END)
FROM vobiz.cdr GROUP BY call_date ORDER BY call_date
"""
DUCKDB_EDGES = """
SELECT call_date,
       min(timezone('Asia/Kolkata', start_time)) AS first_call_ist,
       max(timezone('Asia/Kolkata', start_time)) AS last_call_ist,
       count(*) FILTER (WHERE CAST(timezone('Asia/Kolkata', start_time) AS DATE) <> call_date)
FROM vobiz.cdr GROUP BY call_date ORDER BY call_date
"""


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    require(
        shutil.which("java") is not None,
        "Java is not installed: Spark needs a JVM, 17 or newer (apt-get install openjdk-17-jre-headless)",
    )
    from pyspark.sql import SparkSession

    # py4j logs its connection closing from a finaliser, after pytest closed the captured streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("vobiz-lake-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


def _duckdb(lake) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(ddl_script("duckdb", str(lake.root)))
    return con


def test_spark_runs_the_documented_ddl_and_query_and_agrees_with_duckdb(spark, operator_lake):
    command, query = engine_section("Spark")
    run_doc_command(command, operator_lake.cwd)
    for statement in split_statements((operator_lake.cwd / "vobiz_spark.sql").read_text()):
        spark.sql(statement)

    got = [tuple(r) for r in spark.sql(query).collect()]
    assert [str(r[0]) for r in got] == list(operator_lake.days)
    # Same calls, answered calls, billsec and total_cost per day as DuckDB; the money sums are Decimals, equal.
    expected = _duckdb(operator_lake).sql(query).fetchall()
    assert got == expected
    assert [r[1] for r in got] == [operator_lake.manifests[d]["row_count"] for d in operator_lake.days]
    types = dict(spark.table("vobiz.cdr").dtypes)
    assert (types["total_cost"], types["start_time"], types["call_date"], types["billsec"]) == (
        "decimal(18,6)",
        "timestamp",
        "date",
        "bigint",
    )

    # The IST day edges: each day's first and last call in IST are the same instants in both engines, and no
    # call's IST day differs from its partition.
    spark_edges = [tuple(r) for r in spark.sql(SPARK_EDGES).collect()]
    duck_edges = _duckdb(operator_lake).sql(DUCKDB_EDGES).fetchall()
    assert spark_edges == duck_edges
    for day, first, last, outside in spark_edges:
        assert first.date() == last.date() == day and outside == 0

    # The quarantine table reads the rejects, the record as JSON text.
    rejects = spark.sql(
        "SELECT call_date, reason, get_json_object(record, '$.uuid') FROM vobiz.cdr_quarantine"
    ).collect()
    assert len(rejects) == sum(m["rejects"]["count"] for m in operator_lake.manifests.values()) > 0
    assert all(r[1] for r in rejects)
