"""lake.publish against a real S3 server (moto on loopback): whole-partition replace, restatement, rollback."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from botocore.exceptions import ClientError

from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import PublishError, publish_partition
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.lake.writer import PartWriter, file_metadata
from tests.fixtures.lake_records import ACCOUNT, make_record

DAY = "2026-05-11"
START = dt.datetime(2026, 5, 11, tzinfo=dt.timezone.utc)


def _parts(tmp_path, name, n, rows_per_part):
    d = tmp_path / name
    d.mkdir()
    recs = [make_record(i, START + dt.timedelta(seconds=i)) for i in range(n)]
    table = pa.Table.from_batches([Normalizer(ACCOUNT).from_records(recs)]) if n else None
    w = PartWriter(str(d), file_metadata(ACCOUNT, DAY, "UTC"), row_group_rows=4, rows_per_part=rows_per_part)
    if table is not None:
        w.write(table)
    return w.close()


def _manifest(rows):
    return {
        "schema_version": 1,
        "account_id": ACCOUNT,
        "call_date": DAY,
        "timezone": "UTC",
        "row_count": rows,
    }


def _keys(storage, prefix):
    return sorted(o["Key"] for o in storage.list_objects(prefix))


@pytest.fixture
def lake(s3_lake):
    layout = LakeLayout.from_uri(s3_lake.uri)
    return LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), layout


def test_publish_restate_and_unchanged(lake, tmp_path):
    storage, layout = lake
    prefix = layout.partition_prefix(ACCOUNT, DAY)
    big = _parts(tmp_path, "big", 30, rows_per_part=8)  # 4 parts
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_text('{"reason": "x", "record": {}}\n')
    first = publish_partition(storage, layout, _manifest(30), big, str(rejects))
    assert first.changed and not first.restated
    assert _keys(storage, prefix) == sorted(
        [layout.part_key(ACCOUNT, DAY, i) for i in range(4)] + [layout.manifest_key(ACCOUNT, DAY)]
    )
    m = read_manifest(storage, layout, ACCOUNT, DAY)
    assert m["quality"]["status"] == "pending" and m["history"] == []
    assert [p["rows"] for p in m["parts"]] == [8, 8, 8, 6]
    assert storage.exists(layout.rejects_key(ACCOUNT, DAY))

    # The same content again: nothing rewritten.
    again = publish_partition(storage, layout, _manifest(30), _parts(tmp_path, "again", 30, 8), None)
    assert not again.changed and again.manifest["content_sha256"] == m["content_sha256"]
    assert storage.exists(layout.rejects_key(ACCOUNT, DAY))

    # A smaller restatement: stale parts of the larger run go, history records the change.
    small = _parts(tmp_path, "small", 10, rows_per_part=8)  # 2 parts
    res = publish_partition(storage, layout, _manifest(10), small, None)
    assert res.changed and res.restated
    assert _keys(storage, prefix) == sorted(
        [layout.part_key(ACCOUNT, DAY, i) for i in range(2)] + [layout.manifest_key(ACCOUNT, DAY)]
    )
    m2 = read_manifest(storage, layout, ACCOUNT, DAY)
    (h,) = m2["history"]
    assert (h["old_row_count"], h["new_row_count"]) == (30, 10)
    assert h["old_content_sha256"] == m["content_sha256"] and h["new_content_sha256"] == m2["content_sha256"]
    assert not storage.exists(layout.rejects_key(ACCOUNT, DAY))  # this run rejected nothing
    assert list(storage.list_objects(layout.key("_staging"))) == []


class FailingStorage(LakeStorage):
    """The real S3 server, with the n-th server-side copy failing like an S3 outage would."""

    def __init__(self, *args, fail_on_copy: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.copies = 0
        self.fail_on_copy = fail_on_copy

    def copy(self, src_key, dst_key):
        self.copies += 1
        if self.copies == self.fail_on_copy:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "CopyObject")
        super().copy(src_key, dst_key)


@pytest.mark.parametrize("fail_on_copy", [2, 4, 7])
def test_s3_failure_mid_publish_leaves_the_previous_partition(lake, tmp_path, s3_lake, fail_on_copy):
    storage, layout = lake
    prefix = layout.partition_prefix(ACCOUNT, DAY)
    publish_partition(storage, layout, _manifest(10), _parts(tmp_path, "old", 10, 8), None)
    before = {k: storage.get_bytes(k) for k in _keys(storage, prefix)}
    failing = FailingStorage(s3_lake.aws_conn_id, s3_lake.bucket, fail_on_copy=fail_on_copy)
    # 3 old objects are backed up (copies 1-3), then 4 new parts are copied (4-7): fail at each stage.
    with pytest.raises(PublishError, match="previous partition"):
        publish_partition(failing, layout, _manifest(30), _parts(tmp_path, "new", 30, 8), None)
    after = {k: storage.get_bytes(k) for k in _keys(storage, prefix)}
    assert after == before
    assert list(storage.list_objects(layout.key("_staging"))) == []


def test_manifest_write_failure_is_rolled_back(lake, tmp_path, s3_lake):
    storage, layout = lake
    prefix = layout.partition_prefix(ACCOUNT, DAY)
    publish_partition(storage, layout, _manifest(10), _parts(tmp_path, "old", 10, 8), None)
    before = {k: storage.get_bytes(k) for k in _keys(storage, prefix)}

    class NoManifest(LakeStorage):
        def put_json(self, key, obj):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, "PutObject")

    with pytest.raises(PublishError):
        publish_partition(
            NoManifest(s3_lake.aws_conn_id, s3_lake.bucket),
            layout,
            _manifest(30),
            _parts(tmp_path, "n", 30, 8),
        )
    assert {k: storage.get_bytes(k) for k in _keys(storage, prefix)} == before
    assert json.loads(before[layout.manifest_key(ACCOUNT, DAY)])["row_count"] == 10
