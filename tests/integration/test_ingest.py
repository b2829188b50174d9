"""One day of CDRs into the lake, end to end over real sockets: the simulator's HTTP API, the hook, and
moto's S3 server. Ground truth is the simulator's own data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.cdr.window import DayWindow
from airflow_provider_vobiz.hooks.vobiz import VobizHook
from airflow_provider_vobiz.lake.dataset import cdr_dataset
from airflow_provider_vobiz.lake.ingest import IngestError, ReconciliationError, ingest_day
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import PublishError
from airflow_provider_vobiz.lake.storage import LakeStorage
from tests.fixtures.s3 import S3Faults, set_conn

pytestmark = pytest.mark.integration

ACCOUNT = "MA_DEMO0001"
DAY = "2026-03-02"


@pytest.fixture
def lake(s3_lake):
    return LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), LakeLayout.from_uri(s3_lake.uri)


def _hook(monkeypatch, sim, conn_id="vobiz_default"):
    set_conn(monkeypatch, conn_id, sim.conn_json())
    return VobizHook(conn_id, backoff_base_seconds=0.01, backoff_max_seconds=0.05)


def _partition(storage, layout, day=DAY, account=ACCOUNT) -> pa.Table:
    m = read_manifest(storage, layout, account, day)
    return pa.concat_tables(
        [pq.read_table(storage.path(p["key"]), filesystem=storage.filesystem) for p in m["parts"]]
    )


def _truth(sim, day=DAY, tz="Asia/Kolkata"):
    w = DayWindow.for_day(day, tz)
    return sim.records(w.start, w.end)


@pytest.mark.parametrize("method", ["export", "list"])
def test_a_day_comes_back_exactly(vobiz_simulator, lake, monkeypatch, method):
    storage, layout = lake
    summary = ingest_day(_hook(monkeypatch, vobiz_simulator), storage, layout, ACCOUNT, DAY, method=method)
    truth = _truth(vobiz_simulator)
    table = _partition(storage, layout)
    assert table.schema.equals(FILE_SCHEMA, check_metadata=False)
    assert sorted(table["uuid"].to_pylist()) == sorted(r["uuid"] for r in truth)
    # Every value, typed: the simulator's records through the same normaliser give the same table.
    expected = pa.Table.from_batches([Normalizer(ACCOUNT).from_records(truth)]).sort_by(
        [("start_time", "ascending"), ("uuid", "ascending")]
    )
    assert table.equals(expected)
    m = read_manifest(storage, layout, ACCOUNT, DAY)
    rec = m["reconciliation"]
    assert rec["matched"] and rec["records_read"] == rec["api_total"] == 3 * 300
    assert rec["in_window"] == len(truth) == m["row_count"] == summary["row_count"]
    assert m["source"]["method"] == method and m["source"]["query"]["start_date"] == "2026-03-01"
    assert "quality" not in m and m["window"]["start"] == "2026-03-01T18:30:00Z"
    assert summary["changed"] and not summary["restated"]


@pytest.mark.parametrize("filter_tz", ["Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("partition_tz", ["Asia/Kolkata", "UTC"])
def test_midnight_calls_land_in_the_right_partition(
    simulator_factory, lake, monkeypatch, filter_tz, partition_tz
):
    storage, layout = lake
    sim = simulator_factory(date_filter_timezone=filter_tz, days=3, calls_per_day=200)
    hook = _hook(monkeypatch, sim)
    days = ["2026-03-01", "2026-03-02"]
    seen: set[str] = set()
    for day in days:
        ingest_day(hook, storage, layout, ACCOUNT, day, timezone=partition_tz, method="list")
        table = _partition(storage, layout, day)
        w = DayWindow.for_day(day, partition_tz)
        starts = table["start_time"].to_pylist()
        assert all(w.start <= s < w.end for s in starts)
        uuids = set(table["uuid"].to_pylist())
        assert uuids == {r["uuid"] for r in _truth(sim, day, partition_tz)}
        assert not uuids & seen  # none in two partitions
        seen |= uuids
    # The calls closest to each midnight (IST and UTC) went where their start_time says.
    first = DayWindow.for_day(days[0], partition_tz)
    second = DayWindow.for_day(days[1], partition_tz)
    around = sim.records(second.start - dt.timedelta(hours=6), second.start + dt.timedelta(hours=6))
    assert around, "the simulator has calls on both sides of the midnight"
    day_of = {}
    for day in days:
        for u in _partition(storage, layout, day)["uuid"].to_pylist():
            day_of[u] = day
    for r in around:
        ts = dt.datetime.fromisoformat(r["start_time"].replace("Z", "+00:00"))
        assert day_of[r["uuid"]] == (days[0] if ts < second.start else days[1])
    assert first.end == second.start


def test_the_same_record_on_two_pages_is_kept_once(simulator_factory, lake, monkeypatch):
    storage, layout = lake
    sim = simulator_factory(duplicate_across_pages=True)
    ingest_day(_hook(monkeypatch, sim), storage, layout, ACCOUNT, DAY, method="list")
    table = _partition(storage, layout)
    uuids = table["uuid"].to_pylist()
    assert len(uuids) == len(set(uuids)) == len(_truth(sim))
    rec = read_manifest(storage, layout, ACCOUNT, DAY)["reconciliation"]
    # The repeat is read, counted as a duplicate; the distinct records are what the API counted.
    assert rec["duplicates"] >= 1
    assert (
        rec["records_read"]
        == rec["api_total"] + rec["duplicates"]
        == rec["distinct_read"] + rec["duplicates"]
    )


@pytest.mark.parametrize("method", ["export", "list"])
def test_undocumented_field_kept_in_extra_and_named_in_manifest(simulator_factory, lake, monkeypatch, method):
    storage, layout = lake
    sim = simulator_factory(extra_field="recording_url")
    summary = ingest_day(_hook(monkeypatch, sim), storage, layout, ACCOUNT, DAY, method=method)
    truth = {r["uuid"]: r for r in _truth(sim)}
    table = _partition(storage, layout)
    for u, extra in zip(table["uuid"].to_pylist(), table["extra"].to_pylist(), strict=True):
        value = truth[u]["recording_url"]
        assert (json.loads(extra) if extra else {}) == ({"recording_url": value} if value is not None else {})
    m = read_manifest(storage, layout, ACCOUNT, DAY)
    assert set(m["unknown_fields"]) == {"recording_url"} and m["unknown_fields"]["recording_url"] > 0
    assert summary["unknown_fields"] == ["recording_url"]


@pytest.mark.parametrize("method", ["export", "list"])
def test_malformed_record_quarantined_and_the_rest_published(simulator_factory, lake, monkeypatch, method):
    storage, layout = lake
    sim = simulator_factory(malformed_records=6)
    summary = ingest_day(_hook(monkeypatch, sim), storage, layout, ACCOUNT, DAY, method=method)
    m = read_manifest(storage, layout, ACCOUNT, DAY)
    lines = [json.loads(x) for x in storage.get_bytes(m["rejects"]["key"]).decode().splitlines()]
    assert len(lines) == m["rejects"]["count"] == summary["rejects"] > 0
    assert all(x["reason"] == 'duration: expected an integer, got "abc"' for x in lines)
    assert all(x["record"]["duration"] == "abc" and x["record"]["uuid"] for x in lines)
    rejected = {x["record"]["uuid"] for x in lines}
    truth = {r["uuid"] for r in _truth(sim)}
    published = set(_partition(storage, layout)["uuid"].to_pylist())
    assert published == truth - rejected and truth & rejected  # some of the day's own calls were bad
    rec = m["reconciliation"]
    assert rec["records_read"] == rec["api_total"]
    assert (
        rec["records_read"] == rec["rejected"] + rec["duplicates"] + rec["outside_window"] + rec["in_window"]
    )
    if method == "list":  # the JSON drops the key; the CSV has an empty cell (a null, not a missing field)
        assert m["missing_fields"].get("hangup_cause", 0) > 0


def test_rerun_gives_identical_parts_and_export_equals_list(vobiz_simulator, lake, monkeypatch):
    storage, layout = lake
    hook = _hook(monkeypatch, vobiz_simulator)
    first = ingest_day(
        hook, storage, layout, ACCOUNT, DAY, method="export", row_group_rows=64, rows_per_part=128
    )
    m1 = read_manifest(storage, layout, ACCOUNT, DAY)
    bytes1 = [storage.get_bytes(p["key"]) for p in m1["parts"]]
    assert len(bytes1) == 3  # 300-odd rows in parts of 128
    again = ingest_day(
        hook, storage, layout, ACCOUNT, DAY, method="list", row_group_rows=64, rows_per_part=128
    )
    assert again["content_sha256"] == first["content_sha256"] and not again["changed"]
    assert read_manifest(storage, layout, ACCOUNT, DAY) == m1  # untouched
    assert [storage.get_bytes(p["key"]) for p in m1["parts"]] == bytes1
    # Rewritten from scratch (the partition deleted), the bytes are the same again.
    storage.delete_keys([p["key"] for p in m1["parts"]] + [layout.manifest_key(ACCOUNT, DAY)])
    third = ingest_day(
        hook, storage, layout, ACCOUNT, DAY, method="export", row_group_rows=64, rows_per_part=128
    )
    assert third["changed"] and third["content_sha256"] == first["content_sha256"]
    m3 = read_manifest(storage, layout, ACCOUNT, DAY)
    assert [storage.get_bytes(p["key"]) for p in m3["parts"]] == bytes1


def test_late_cdrs_restate_and_an_s3_failure_leaves_the_previous_partition(
    simulator_factory, lake, monkeypatch, s3_lake
):
    storage, layout = lake
    sim = simulator_factory(late_fraction=0.2, late_delay=dt.timedelta(hours=30))
    hook = _hook(monkeypatch, sim)
    w = DayWindow.for_day(DAY, "Asia/Kolkata")
    sim.set_now(w.end + dt.timedelta(hours=1))  # the late CDRs of the day are not there yet
    first = ingest_day(hook, storage, layout, ACCOUNT, DAY)
    prefix = layout.partition_prefix(ACCOUNT, DAY)
    before = {o["Key"]: storage.get_bytes(o["Key"]) for o in storage.list_objects(prefix)}

    sim.set_now(w.end + dt.timedelta(days=3))  # now they are
    # S3 fails from the second part on (the lease is the first PUT, the first part the second).
    failing = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    S3Faults(failing.client, fail_from=3)
    with pytest.raises(PublishError, match="previous version is what readers see"):
        ingest_day(hook, failing, layout, ACCOUNT, DAY, row_group_rows=64, rows_per_part=64)
    listed = {o["Key"] for o in storage.list_objects(prefix)}
    assert {k: storage.get_bytes(k) for k in before} == before  # the manifest and its parts, untouched
    assert listed - set(before) <= {layout.lease_key(ACCOUNT, DAY)}  # the failed run removed its part

    restated = ingest_day(hook, storage, layout, ACCOUNT, DAY)
    assert restated["changed"] and restated["restated"]
    assert restated["row_count"] > first["row_count"]
    (h,) = read_manifest(storage, layout, ACCOUNT, DAY)["history"]
    assert (h["old_row_count"], h["new_row_count"]) == (first["row_count"], restated["row_count"])
    assert h["old_content_sha256"] == first["content_sha256"]
    old_manifest = before[layout.manifest_key(ACCOUNT, DAY)]
    assert h["old_manifest_sha256"] == hashlib.sha256(old_manifest).hexdigest()
    assert (
        storage.get_bytes(layout.manifest_archive_key(ACCOUNT, DAY, h["old_manifest_sha256"])) == old_manifest
    )


def test_records_arriving_during_the_pull_fail_reconciliation(simulator_factory, lake, monkeypatch):
    storage, layout = lake
    sim = simulator_factory(late_fraction=0.2, late_delay=dt.timedelta(hours=30))
    w = DayWindow.for_day(DAY, "Asia/Kolkata")
    sim.set_now(w.end + dt.timedelta(hours=1))
    set_conn(monkeypatch, "vobiz_default", sim.conn_json())

    class LateHook(VobizHook):
        def export_to(self, target, **filters):
            sim.set_now(w.end + dt.timedelta(days=3))  # late CDRs land between the total and the export
            return super().export_to(target, **filters)

    with pytest.raises(
        ReconciliationError, match=r"but pagination.total is \d+ \(\d+ call\(s\) more than expected\)"
    ):
        ingest_day(LateHook("vobiz_default"), storage, layout, ACCOUNT, DAY)
    assert read_manifest(storage, layout, ACCOUNT, DAY) is None  # nothing published


def test_wrong_account_and_too_old_day_fail_clearly(vobiz_simulator, lake, monkeypatch):
    storage, layout = lake
    hook = _hook(monkeypatch, vobiz_simulator)
    with pytest.raises(
        IngestError, match="answered for account 'MA_DEMO0001', but the partition is for 'MA_OTHER'"
    ):
        ingest_day(hook, storage, layout, "MA_OTHER", DAY)
    with pytest.raises(IngestError, match="older than the Vobiz API keeps"):
        ingest_day(hook, storage, layout, ACCOUNT, DAY, max_api_age_days=30, today=dt.date(2026, 5, 1))


def test_duckdb_reads_the_lake_with_hive_partitioning(vobiz_simulator, lake, monkeypatch, tmp_path):
    storage, layout = lake
    hook = _hook(monkeypatch, vobiz_simulator)
    for day in ("2026-03-02", "2026-03-03"):
        ingest_day(hook, storage, layout, ACCOUNT, day)
    # DuckDB's own reader over the lake's keys (copied locally: httpfs cannot be installed offline).
    for o in storage.list_objects(layout.cdr_root):
        if LakeLayout.is_part_key(o["Key"]):
            dest = tmp_path / o["Key"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(storage.get_bytes(o["Key"]))
    con = duckdb.connect()
    root = tmp_path / layout.cdr_root
    rows = con.sql(
        f"""SELECT account_id, call_date, count(*) AS calls, sum(total_cost) AS cost,
                   typeof(start_time), typeof(total_cost), typeof(mos), typeof(duration)
            FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)
            GROUP BY ALL ORDER BY call_date"""
    ).fetchall()
    assert [(r[0], str(r[1])) for r in rows] == [(ACCOUNT, "2026-03-02"), (ACCOUNT, "2026-03-03")]
    assert rows[0][4:] == ("TIMESTAMP WITH TIME ZONE", "DECIMAL(18,6)", "DOUBLE", "BIGINT")
    assert rows[0][2] == len(_truth(vobiz_simulator, "2026-03-02"))
    # The same through a pyarrow dataset on S3 (what docs/lake.md shows), straight from the S3 server.
    cdr = cdr_dataset(storage, layout)
    assert cdr.schema.field("call_date").type == pa.date32()
    n, days, answered = duckdb.sql(
        "SELECT count(*), count(DISTINCT call_date), count(*) FILTER (WHERE billsec > 0) "
        "FROM cdr WHERE account_id = 'MA_DEMO0001'"
    ).fetchall()[0]
    assert n == sum(r[2] for r in rows) and days == 2 and 0 < answered < n
    # The query of docs/lake.md, verbatim.
    doc = (Path(__file__).resolve().parents[2] / "docs" / "lake.md").read_text()
    query = re.search(r'duckdb\.sql\("""\n(.*?)"""\)', doc, re.S).group(1)
    summary = duckdb.sql(query).fetchall()
    assert sum(r[3] for r in summary) == n and {str(r[1]) for r in summary} == {"2026-03-02", "2026-03-03"}
    assert all(r[2] in ("inbound", "outbound") and 0 <= r[5] <= 100 for r in summary)


@pytest.mark.parametrize("method", ["export", "list"])
def test_a_day_without_calls_publishes_an_empty_partition(vobiz_simulator, lake, monkeypatch, method):
    storage, layout = lake
    day = "2026-04-20"  # the simulator's calls are in early March
    summary = ingest_day(_hook(monkeypatch, vobiz_simulator), storage, layout, ACCOUNT, day, method=method)
    assert summary["row_count"] == 0 and summary["parts"] == 1
    m = read_manifest(storage, layout, ACCOUNT, day)
    assert m["reconciliation"]["api_total"] == 0 and m["reconciliation"]["matched"]
    table = _partition(storage, layout, day)
    assert table.num_rows == 0 and table.schema.equals(FILE_SCHEMA, check_metadata=False)


def test_an_export_restarted_mid_download_is_parsed_again(vobiz_simulator, lake, monkeypatch):
    """The CSV is parsed while it downloads; a dropped connection makes the hook restart the download, and
    what was parsed of the first attempt must not count."""
    storage, layout = lake
    vobiz_simulator.add_fault(kind="drop", endpoint="export", after_bytes=150_000)
    summary = ingest_day(_hook(monkeypatch, vobiz_simulator), storage, layout, ACCOUNT, DAY)
    assert [ep for ep, _, _ in vobiz_simulator.requests].count("export") == 2
    truth = _truth(vobiz_simulator)
    table = _partition(storage, layout)
    assert sorted(table["uuid"].to_pylist()) == sorted(r["uuid"] for r in truth)
    rec = read_manifest(storage, layout, ACCOUNT, DAY)["reconciliation"]
    assert rec["records_read"] == rec["api_total"] == 900 and summary["row_count"] == len(truth)
