"""The inventory and Object Lock against partitions published by the lake's own writer (lake/publish.py)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake import retention as enforce
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.publish import publish_partition
from airflow_provider_vobiz.lake.writer import PartWriter, file_metadata
from airflow_provider_vobiz.reports import retention as rr
from tests.integration.test_retention import day_rows, lake, locked_lake  # noqa: F401, F811 (fixtures)

pytestmark = pytest.mark.integration

ACCOUNT = "MA_LAKEPUB1"


def publish(storage, layout, day: dt.date, rows: int, tmp_path, rows_per_part: int = 4):
    directory = tmp_path / f"{day}-{rows}"
    directory.mkdir()
    writer = PartWriter(
        str(directory),
        file_metadata(ACCOUNT, day.isoformat(), "Asia/Kolkata"),
        row_group_rows=2,
        rows_per_part=rows_per_part,
    )
    writer.write(pa.Table.from_pylist(day_rows(day, rows), schema=FILE_SCHEMA))
    parts = writer.close()
    manifest = {
        "schema_version": 1,
        "account_id": ACCOUNT,
        "call_date": day.isoformat(),
        "timezone": "Asia/Kolkata",
        "row_count": rows,
        "reconciliation": {"api_total": rows, "matched": True},
    }
    return publish_partition(storage, layout, manifest, parts).manifest


def test_inventory_and_lock_follow_the_lake_writer(locked_lake, tmp_path):  # noqa: F811
    client, layout, storage = locked_lake
    as_of = dt.date(2026, 11, 27)
    days = [dt.date(2026, 11, 25), dt.date(2026, 11, 26)]
    for day in days:
        publish(storage, layout, day, 10, tmp_path)  # 3 parts of 4, 4 and 2 rows

    inv = rr.inventory(storage, layout, ACCOUNT, as_of, verify="full")
    by_day = {r.call_date: r for r in inv.days}
    assert by_day[days[0]].status == rr.STATUS_PRESENT
    assert (by_day[days[0]].parts, by_day[days[0]].rows, by_day[days[0]].hash_check) == (3, 10, "ok")
    assert by_day[days[0]].quality_status == "pending"

    locked = enforce.apply_object_lock(storage, layout, ACCOUNT, as_of, mode="compliance")
    assert [a["parts"] for a in locked["applied"]] == [3, 3]

    # A late CDR restates the day through the writer: new content, fewer parts, the lock record carried over.
    publish(storage, layout, days[1], 6, tmp_path, rows_per_part=8)
    inv = rr.inventory(storage, layout, ACCOUNT, as_of, verify="full")
    rec = {r.call_date: r for r in inv.days}[days[1]]
    assert rec.status == rr.STATUS_PRESENT and rec.rows == 6 and rec.restatements == 1
    assert rec.retain_until is None  # the new part is not locked yet

    again = enforce.apply_object_lock(storage, layout, ACCOUNT, as_of, mode="compliance")
    assert [(a["call_date"], a["parts"]) for a in again["applied"]] == [(days[1].isoformat(), 1)]
    (part,) = read_manifest(storage, layout, ACCOUNT, days[1])["parts"]
    head = client.head_object(Bucket=layout.bucket, Key=part["key"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    rec = {r.call_date: r for r in rr.inventory(storage, layout, ACCOUNT, as_of).days}[days[1]]
    assert rec.retain_until == "2028-11-26T18:30:00Z"


def test_retention_collects_what_unfinished_publishes_left(lake, tmp_path):  # noqa: F811
    _, layout, storage = lake
    day = dt.date(2026, 11, 20)
    manifest = publish(storage, layout, day, 10, tmp_path)
    prefix = layout.partition_prefix(ACCOUNT, day)
    orphan = layout.part_key(ACCOUNT, day, 0, "20261120T000000Z-0badc0de")
    orphan_rejects = layout.rejects_key(ACCOUNT, day, "20261120T000000Z-0badc0de")
    first_publish_killed = layout.part_key(ACCOUNT, dt.date(2026, 11, 21), 0, "20261121T000000Z-0badc0de")
    twin_killed = layout.tokenised().part_key(ACCOUNT, day, 0, "20261120T000000Z-0badc0de")
    for key in (orphan, orphan_rejects, first_publish_killed, twin_killed):
        storage.put_bytes(key, b"unpublished")
    # Younger than any lease: a publish may still be in flight, so nothing goes.
    assert enforce.collect_unpublished(storage, layout, ACCOUNT)["objects"] == 0
    assert storage.exists(orphan)
    result = enforce.collect_unpublished(storage, layout, ACCOUNT, older_than=dt.timedelta(0))
    assert result["objects"] == 4
    assert result["days"] == {"2026-11-20": 2, "2026-11-21": 1, "cdr_tokenised 2026-11-20": 1}
    assert not storage.exists(orphan) and not storage.exists(first_publish_killed)
    assert not storage.exists(twin_killed)
    # What the manifest names, and the manifest itself, stay.
    assert all(storage.exists(p["key"]) for p in manifest["parts"])
    assert storage.exists(prefix + "_manifest.json")
