"""lake.publish against a real S3 server (moto on loopback): versions, the commit point, lease, repair, outages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from airflow_provider_vobiz.lake.manifest import manifest_sha256, read_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import (
    PartitionBusyError,
    PublishError,
    acquire_lease,
    publish_partition,
)
from airflow_provider_vobiz.lake.storage import LakeStorage
from tests.fixtures.lake_records import ACCOUNT
from tests.fixtures.partition_checks import (
    DAY,
    base_manifest,
    history_chain,
    leftovers,
    local_table,
    make_parts,
    manifest_true,
    published_bytes,
)
from tests.fixtures.s3 import S3Faults


@pytest.fixture
def lake(s3_lake):
    layout = LakeLayout.from_uri(s3_lake.uri)
    return LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), layout


def _failing(s3_lake, **kwargs) -> LakeStorage:
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    S3Faults(storage.client, **kwargs)
    return storage


def test_publish_restate_and_unchanged(lake, tmp_path):
    storage, layout = lake
    big = make_parts(tmp_path / "big", 30, rows_per_part=8)  # 4 parts
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_text('{"reason": "x", "record": {}}\n')
    first = publish_partition(storage, layout, base_manifest(30), big, str(rejects))
    assert first.changed and not first.restated
    m = read_manifest(storage, layout, ACCOUNT, DAY)
    version = m["version"]
    assert [p["key"] for p in m["parts"]] == [layout.part_key(ACCOUNT, DAY, i, version) for i in range(4)]
    assert [p["rows"] for p in m["parts"]] == [8, 8, 8, 6] and all(len(p["etag"]) == 32 for p in m["parts"])
    assert "quality" not in m and m["history"] == [] and m["repairs"] == []
    assert m["rejects"]["key"] == layout.rejects_key(ACCOUNT, DAY, version)
    assert storage.get_bytes(m["rejects"]["key"]) == rejects.read_bytes()
    assert manifest_true(storage, layout).equals(local_table(big))
    assert leftovers(storage, layout) == []  # no lease, no staging, nothing unnamed

    # The same content again: nothing rewritten, the manifest's bytes untouched.
    raw = storage.get_bytes(layout.manifest_key(ACCOUNT, DAY))
    again = publish_partition(storage, layout, base_manifest(30), make_parts(tmp_path / "again", 30, 8), None)
    assert not again.changed and again.manifest == m
    assert storage.get_bytes(layout.manifest_key(ACCOUNT, DAY)) == raw

    # A smaller restatement: new parts under a new version, the old ones and the old rejects deleted, the old
    # manifest archived under its sha256 and named in the history entry.
    small = make_parts(tmp_path / "small", 10, rows_per_part=8)  # 2 parts
    res = publish_partition(storage, layout, base_manifest(10, "2026-05-12T01:00:00Z"), small, None)
    assert res.changed and res.restated
    m2 = read_manifest(storage, layout, ACCOUNT, DAY)
    assert m2["version"] != version and len(m2["parts"]) == 2 and m2["rejects"]["key"] is None
    (h,) = history_chain(storage, layout)
    assert (h["old_row_count"], h["new_row_count"]) == (30, 10)
    assert h["old_content_sha256"] == m["content_sha256"] and h["new_content_sha256"] == m2["content_sha256"]
    assert h["old_manifest_sha256"] == manifest_sha256(raw)
    assert manifest_true(storage, layout).equals(local_table(small))
    assert leftovers(storage, layout) == []


def test_an_older_pull_does_not_replace_a_newer_one(lake, tmp_path):
    storage, layout = lake
    newer = make_parts(tmp_path / "newer", 12, first=100)
    publish_partition(storage, layout, base_manifest(12, "2026-05-12T02:00:00Z"), newer)
    older = make_parts(tmp_path / "older", 10)
    res = publish_partition(storage, layout, base_manifest(10, "2026-05-12T01:59:59.5Z"), older)
    assert res.superseded and not res.changed
    assert manifest_true(storage, layout).equals(local_table(newer))
    assert leftovers(storage, layout) == []


@pytest.mark.parametrize("damage", ["delete", "truncate", "rewrite"])
def test_unchanged_content_over_a_damaged_part_is_repaired(lake, tmp_path, damage):
    storage, layout = lake
    parts = make_parts(tmp_path / "p", 20, rows_per_part=8)
    publish_partition(storage, layout, base_manifest(20), parts)
    m = read_manifest(storage, layout, ACCOUNT, DAY)
    key = m["parts"][1]["key"]
    data = storage.get_bytes(key)
    if damage == "delete":
        storage.delete_keys([key])
    else:
        storage.put_bytes(key, data[:-10] if damage == "truncate" else data[:100] + b"X" + data[101:])
    res = publish_partition(storage, layout, base_manifest(20), make_parts(tmp_path / "q", 20, 8))
    assert res.changed and res.repaired and not res.restated
    m2 = read_manifest(storage, layout, ACCOUNT, DAY)
    assert m2["content_sha256"] == m["content_sha256"] and m2["history"] == []
    (repair,) = m2["repairs"]
    assert repair["old_manifest_sha256"] and "part-00001" in repair["problems"][0]
    assert published_bytes(storage, layout) == [Path(p.path).read_bytes() for p in parts]
    assert leftovers(storage, layout) == []


def test_a_second_writer_waits_for_the_lease_then_fails_retryably(lake, tmp_path):
    storage, layout = lake
    held = acquire_lease(storage, layout.lease_key(ACCOUNT, DAY), "run-a", "v1")
    with pytest.raises(PartitionBusyError, match="is being published by 'run-a'.*retry later"):
        publish_partition(
            storage, layout, base_manifest(5), make_parts(tmp_path / "b", 5), owner="run-b", lease_wait=0.3
        )
    assert read_manifest(storage, layout, ACCOUNT, DAY) is None
    # The same owner (the task retried after a kill) takes its lease over; the next run is not blocked.
    publish_partition(
        storage, layout, base_manifest(5), make_parts(tmp_path / "a", 5), owner="run-a", lease_wait=0
    )
    assert storage.head(held.key) is None


def test_an_expired_lease_is_taken_over(lake, tmp_path):
    storage, layout = lake
    acquire_lease(storage, layout.lease_key(ACCOUNT, DAY), "dead-worker", "v1", seconds=0)
    res = publish_partition(
        storage, layout, base_manifest(5), make_parts(tmp_path / "b", 5), owner="other", lease_wait=0
    )
    assert res.changed and leftovers(storage, layout) == []


# PUTs of a restatement of 2 parts by 4: the lease (1), 4 parts (2-5), the old manifest's archive (6), the
# manifest (7). An outage from each of them on leaves the previous version whole; the retry heals.
@pytest.mark.parametrize("fail_from", range(1, 8))
def test_s3_outage_mid_publish_then_recovery(lake, tmp_path, s3_lake, fail_from):
    storage, layout = lake
    old = make_parts(tmp_path / "old", 10, 8)
    publish_partition(storage, layout, base_manifest(10), old)
    raw = storage.get_bytes(layout.manifest_key(ACCOUNT, DAY))
    new = make_parts(tmp_path / "new", 30, 8, first=50)
    failing = _failing(s3_lake, fail_from=fail_from)
    with pytest.raises(
        PublishError, match=r"s3://.*call_date=2026-05-11/.*(nothing was written|previous version)"
    ):
        publish_partition(failing, layout, base_manifest(30, "2026-05-12T01:00:00Z"), new)
    assert storage.get_bytes(layout.manifest_key(ACCOUNT, DAY)) == raw
    assert manifest_true(storage, layout).equals(local_table(old))
    # S3 is back: the retry publishes the new version and collects what the failed run left.
    res = publish_partition(storage, layout, base_manifest(30, "2026-05-12T01:00:00Z"), new)
    assert res.restated and manifest_true(storage, layout).equals(local_table(new))
    assert leftovers(storage, layout) == []


def test_a_getobject_500_names_the_partition(lake, tmp_path, s3_lake):
    _, layout = lake
    failing = _failing(s3_lake, operations=("GetObject",))
    with pytest.raises(PublishError) as err:
        publish_partition(failing, layout, base_manifest(5), make_parts(tmp_path / "p", 5))
    message = str(err.value)
    assert f"s3://{s3_lake.bucket}/lake/cdr/account_id={ACCOUNT}/call_date={DAY}/" in message
    assert "InternalError" in message and "nothing was written" in message


def test_the_manifest_is_stable_json(lake, tmp_path):
    storage, layout = lake
    publish_partition(storage, layout, base_manifest(3), make_parts(tmp_path / "p", 3))
    raw = storage.get_bytes(layout.manifest_key(ACCOUNT, DAY))
    assert raw == json.dumps(json.loads(raw), indent=2, sort_keys=True).encode()
    assert dt.datetime.fromisoformat(
        read_manifest(storage, layout, ACCOUNT, DAY)["extracted_at"].replace("Z", "+00:00")
    )
