"""The DDL command on a lake the operators wrote: docs/lake.md's DuckDB section, verbatim, and its results."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow.dataset as pads
import pytest

from airflow_provider_vobiz.lake.dataset import PARTITIONING
from airflow_provider_vobiz.lake.ddl import ddl_script
from airflow_provider_vobiz.reports.privacy import hmac_token
from tests.fixtures.consumer_lake import HMAC_KEY, engine_section, run_doc_command

pytestmark = pytest.mark.integration


def test_the_documented_duckdb_command_and_query_run_as_written(operator_lake):
    command, query = engine_section("DuckDB")
    run_doc_command(command, operator_lake.cwd)
    con = duckdb.connect()
    con.execute((operator_lake.cwd / "vobiz_duckdb.sql").read_text())
    rows = con.sql(query).fetchall()
    assert [str(r[0]) for r in rows] == list(operator_lake.days)
    # Each day's calls are the manifest's row count; the sums are those of the parts, read without the view.
    parts = pads.dataset(
        str(operator_lake.root / "cdr"),
        format="parquet",
        partitioning=PARTITIONING,
        ignore_prefixes=["_", "."],
    ).to_table()
    for day, calls, answered, billsec, total_cost in rows:
        assert calls == operator_lake.manifests[str(day)]["row_count"] > 0
        mine = parts.filter(pads.field("call_date") == day)
        assert billsec == sum(mine["billsec"].to_pylist())
        assert total_cost == sum(mine["total_cost"].to_pylist())  # Decimal: exact
        assert 0 < answered < calls
    types = {r[0]: r[1] for r in con.sql("DESCRIBE vobiz.cdr").fetchall()}
    assert (types["start_time"], types["total_cost"], types["call_date"], types["account_id"]) == (
        "TIMESTAMP WITH TIME ZONE",
        "DECIMAL(18,6)",
        "DATE",
        "VARCHAR",
    )


def test_the_quarantine_view_reads_the_rejects_with_their_reason(operator_lake):
    con = duckdb.connect()
    con.execute(ddl_script("duckdb", str(operator_lake.root), ["quarantine"]))
    rows = con.sql(
        f"SELECT call_date, reason, record->>'uuid' FROM vobiz.cdr_quarantine "
        f"WHERE account_id = '{operator_lake.account_id}' ORDER BY ALL"
    ).fetchall()
    per_day = {day: m["rejects"]["count"] for day, m in operator_lake.manifests.items()}
    assert sum(per_day.values()) == len(rows) > 0
    assert {str(r[0]) for r in rows} == {d for d, n in per_day.items() if n}
    assert all(r[1] for r in rows)


def test_bad_input_is_refused_clearly(operator_lake):
    with pytest.raises(ValueError, match="athena reads the lake on S3"):
        ddl_script("athena", str(operator_lake.root))
    with pytest.raises(ValueError, match="engine must be one of athena, spark, trino, duckdb"):
        ddl_script("hive", operator_lake.uri)


def test_the_tokenised_table_counts_and_joins_like_the_raw_one_without_a_number(operator_lake):
    con = duckdb.connect()
    con.execute(ddl_script("duckdb", str(operator_lake.root), ["cdr", "cdr_tokenised"]))
    raw, zone = (
        con.sql(
            f"SELECT call_date, count(*), count(DISTINCT caller_id_number), sum(total_cost) FROM vobiz.{t} "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        for t in ("cdr", "cdr_tokenised")
    )
    assert raw == zone and len(raw) == len(operator_lake.days)
    # Each call's token is the keyed HMAC of its raw number: stable, so it joins and counts like the number.
    pairs = con.sql(
        "SELECT r.caller_id_number, t.caller_id_number, r.destination_number, t.destination_number "
        "FROM vobiz.cdr r JOIN vobiz.cdr_tokenised t USING (uuid, call_date)"
    ).fetchall()
    assert len(pairs) == sum(r[1] for r in raw)
    assert all((tc, td) == (hmac_token(rc, HMAC_KEY), hmac_token(rd, HMAC_KEY)) for rc, tc, rd, td in pairs)
    # docs/lake.md's query of the zone, verbatim.
    doc = (Path(__file__).resolve().parents[2] / "docs" / "lake.md").read_text()
    zone_section = doc.split("## The tokenised zone", 1)[1]
    query = re.search(r"```sql\n(.*?)```", zone_section, re.S).group(1)
    documented = con.sql(query).fetchall()
    assert [(r[0], r[1], r[2]) for r in documented] == [(r[0], r[1], r[2]) for r in zone]
