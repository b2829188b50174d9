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
    assert "quality" not in m and m["history"] == []
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


class _FailingClient:
    """The real boto3 client, except that the n-th write (upload, copy or put) fails like an S3 outage."""

    WRITES = ("upload_file", "copy_object", "put_object")

    def __init__(self, client, fail_on_write: int):
        self._client, self.fail_on_write, self.writes = client, fail_on_write, 0

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name not in self.WRITES:
            return attr

        def write(*args, **kwargs):
            self.writes += 1
            if self.writes == self.fail_on_write:
                raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, name)
            return attr(*args, **kwargs)

        return write


class FailingStorage(LakeStorage):
    """LakeStorage on the real S3 server whose n-th write fails."""

    def __init__(self, *args, fail_on_write: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = _FailingClient(LakeStorage(*args, **kwargs).client, fail_on_write)


# Writes when 30 rows in 4 parts replace 10 rows in 2: staging uploads of the 2 replaced parts (1-2), backups
# of 2 parts + manifest (3-5), 2 copies over published parts (6-7), 2 new parts (8-9), the manifest (10).
@pytest.mark.parametrize("fail_on_write", [2, 4, 6, 7, 8, 9, 10])
def test_s3_failure_mid_publish_leaves_the_previous_partition(lake, tmp_path, s3_lake, fail_on_write):
    storage, layout = lake
    prefix = layout.partition_prefix(ACCOUNT, DAY)
    publish_partition(storage, layout, _manifest(10), _parts(tmp_path, "old", 10, 8), None)
    before = {k: storage.get_bytes(k) for k in _keys(storage, prefix)}
    failing = FailingStorage(s3_lake.aws_conn_id, s3_lake.bucket, fail_on_write=fail_on_write)
    with pytest.raises(PublishError, match="previous partition"):
        publish_partition(failing, layout, _manifest(30), _parts(tmp_path, "new", 30, 8), None)
    assert failing.client.writes >= fail_on_write
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
