"""lake.manifest.Manifest, lake.read and lake.storage against a real S3 server (moto on loopback)."""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa
import pytest

from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
from airflow_provider_vobiz.lake.manifest import (
    Manifest,
    Part,
    content_sha256,
    manifest_bytes,
    manifest_sha256,
    read_manifest,
)
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import publish_partition
from airflow_provider_vobiz.lake.read import (
    cdr_dataset,
    manifest_days,
    partition_manifest,
    partition_manifests,
    partition_table,
    published_part_keys,
    read_columns,
)
from airflow_provider_vobiz.lake.storage import LakeStorage, PreconditionFailed
from tests.fixtures.lake_records import ACCOUNT
from tests.fixtures.partition_checks import DAY, base_manifest, local_table, make_parts


@pytest.fixture
def lake(s3_lake):
    return LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), LakeLayout.from_uri(s3_lake.uri)


@pytest.fixture
def published(lake, tmp_path):
    storage, layout = lake
    parts = make_parts(tmp_path / "parts", 20, rows_per_part=8)  # 3 parts
    publish_partition(storage, layout, base_manifest(20), parts, None)
    return storage, layout, local_table(parts)


# -- Manifest ---------------------------------------------------------------------------------------------
SAMPLE = {
    "account_id": ACCOUNT,
    "call_date": DAY,
    "version": "20260512T000000Z-1a2b3c4d",
    "row_count": 3,
    "parts": [
        {"key": "lake/cdr/x/part-00000.parquet", "bytes": 10, "sha256": "a", "rows": 2, "etag": "e"},
        {"key": "part-00001.parquet", "bytes": 5, "sha256": "b", "rows": 1},
    ],
    "content_sha256": content_sha256(["a", "b"]),
    "history": [{"old_row_count": 1}],
    "reconciliation": {"matched": True},
    "rejects": {"count": 0, "key": None},
}


def test_manifest_round_trips_to_the_same_bytes():
    raw = manifest_bytes(SAMPLE)
    m = Manifest.from_json(raw)
    assert m.to_json() == raw and m.raw == raw
    assert m.sha256 == manifest_sha256(raw) == Manifest(SAMPLE).sha256
    assert Manifest.from_json(raw.decode()) == Manifest(SAMPLE)
    assert Manifest.of(SAMPLE) == m and Manifest.of(m) is m and Manifest.of(None) is None


def test_manifest_fields_and_part_keys():
    m = Manifest(SAMPLE)
    layout = LakeLayout.from_uri("s3://b/lake")
    assert (m.account_id, m.call_date, m.day) == (ACCOUNT, DAY, dt.date.fromisoformat(DAY))
    assert m.version == "20260512T000000Z-1a2b3c4d" and m.row_count == 3 and m.parts_rows == 3
    assert m.parts[0] == Part("lake/cdr/x/part-00000.parquet", 10, "a", 2, "e")
    assert m.parts[1].name == "part-00001.parquet" and m.parts[1].etag is None
    assert m.parts_sha256 == m.content_sha256
    assert m.history == [{"old_row_count": 1}] and m.repairs == []
    assert m.reconciliation == {"matched": True} and m.rejects_key is None
    prefix = layout.partition_prefix(ACCOUNT, DAY)
    assert (
        m.part_keys(layout)
        == m.part_keys(prefix)
        == ["lake/cdr/x/part-00000.parquet", prefix + "part-00001.parquet"]
    )
    assert Manifest({"row_count": "many"}).row_count is None and Manifest({}).parts == ()
    assert not Manifest({}).has_parts_list and m.has_parts_list


def test_manifest_quality_only_for_its_content():
    m = Manifest(SAMPLE)
    assert m.quality_status(None) == "pending"
    assert m.quality_status({"status": "passed", "content_sha256": "other"}) == "pending"
    verdict = {"status": "warning", "content_sha256": m.content_sha256}
    assert m.quality(verdict) == verdict and m.quality_status(verdict) == "warning"
    assert m.quality_status({"status": "odd", "content_sha256": m.content_sha256}) == "pending"


# -- reading ----------------------------------------------------------------------------------------------
def test_partition_manifest_keeps_the_bytes_read(published):
    storage, layout, _ = published
    raw = storage.get_bytes(layout.manifest_key(ACCOUNT, DAY))
    m = partition_manifest(storage, layout, ACCOUNT, DAY)
    assert m.raw == raw and m.to_json() == raw and m.sha256 == manifest_sha256(raw)
    assert m.data == read_manifest(storage, layout, ACCOUNT, DAY)
    assert partition_manifest(storage, layout, ACCOUNT, "2026-05-12") is None
    other = dt.date(2026, 5, 12)
    found = partition_manifests(storage, layout, ACCOUNT, [dt.date.fromisoformat(DAY), other])
    assert found[dt.date.fromisoformat(DAY)] == m and found[other] is None
    assert manifest_days(storage, layout, ACCOUNT) == [dt.date.fromisoformat(DAY)]


def test_part_keys_table_and_dataset(published):
    storage, layout, expected = published
    m = partition_manifest(storage, layout, ACCOUNT, DAY)
    keys = m.part_keys(layout)
    assert len(keys) == 3
    assert published_part_keys(storage, layout) == sorted(keys)
    assert published_part_keys(storage, layout, ACCOUNT, [DAY, "2026-05-12"]) == sorted(keys)
    assert partition_table(storage, layout, ACCOUNT, DAY).equals(expected)
    assert partition_table(storage, layout, ACCOUNT, "2026-05-12") is None
    assert read_columns(storage, keys, ["uuid", "nope"]).column_names == ["uuid"]
    assert read_columns(storage, [], ["uuid"]).num_rows == 0

    dataset = cdr_dataset(storage, layout, ACCOUNT, [DAY])
    assert dataset.schema.field("call_date").type == pa.date32()
    assert dataset.schema.field("account_id").type == pa.string()
    table = dataset.to_table(columns=["uuid", "account_id", "call_date"])
    assert table.num_rows == 20
    assert set(table["call_date"].to_pylist()) == {dt.date.fromisoformat(DAY)}
    assert set(table["account_id"].to_pylist()) == {ACCOUNT}
    coded = cdr_dataset(storage, layout, dictionary_columns=["call_direction"])
    assert pa.types.is_dictionary(coded.schema.field("call_direction").type)
    assert coded.to_table(columns=["call_direction"]).num_rows == 20
    assert cdr_dataset(storage, layout, ACCOUNT, []).to_table().num_rows == 0
    assert set(FILE_SCHEMA.names) <= set(dataset.schema.names)


# -- storage ----------------------------------------------------------------------------------------------
def test_storage_objects(lake, tmp_path):
    storage, layout = lake
    key = layout.key("t", "a.json")
    etag = storage.put_conditional(key, b"1", content_type="application/json")
    with pytest.raises(PreconditionFailed):
        storage.put_conditional(key, b"2")
    with pytest.raises(PreconditionFailed):
        storage.put_conditional(key, b"2", if_match='"nope"')
    etag = storage.put_conditional(key, b"3", if_match=etag)
    assert storage.get_versioned(key) == (b"3", etag)
    assert storage.head(key)["ContentLength"] == 1 and storage.exists(key)
    assert storage.head(layout.key("t", "none")) is None and storage.get_json(layout.key("t", "none")) is None
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    storage.upload_file(str(path), layout.key("t", "sub", "f.bin"), content_type="text/plain")
    assert storage.head(layout.key("t", "sub", "f.bin"))["ContentType"] == "text/plain"
    storage.copy(key, layout.key("t", "b.json"))
    assert storage.get_bytes(layout.key("t", "b.json")) == b"3"
    assert sorted(o["Key"] for o in storage.list_objects(layout.key("t") + "/")) == [
        layout.key("t", "a.json"),
        layout.key("t", "b.json"),
        layout.key("t", "sub", "f.bin"),
    ]
    assert storage.list_prefixes(layout.key("t") + "/") == [layout.key("t", "sub") + "/"]
    assert not storage.delete_conditional(key, '"nope"') and storage.delete_conditional(key, etag)
    assert storage.delete_keys([layout.key("t", "b.json"), layout.key("t", "sub", "f.bin")]) == []
    assert list(storage.list_objects(layout.key("t") + "/")) == []
    assert not storage.versioned() and not storage.object_lock_enabled()
    assert storage.lifecycle_rules() == []


def test_storage_lock_hold_versions_and_refused_deletes(s3_server, monkeypatch):
    bucket = f"locked-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3_server.conn_json())
    storage = LakeStorage("aws_default", bucket)
    assert storage.object_lock_enabled() and storage.versioned()
    storage.put_bytes("p/locked", b"1")
    storage.put_bytes("p/held", b"2")
    storage.put_bytes("p/free", b"3")
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    storage.put_retention("p/locked", "GOVERNANCE", until)
    storage.put_legal_hold("p/held", True)
    assert storage.head("p/held")["ObjectLockLegalHoldStatus"] == "ON"
    assert storage.head("p/locked")["ObjectLockMode"] == "GOVERNANCE"
    versions = {v["Key"]: v["VersionId"] for v in storage.list_object_versions("p/")}
    assert sorted(versions) == ["p/free", "p/held", "p/locked"]
    errors = storage.delete_keys(sorted(versions.items()))
    assert sorted(e["key"] for e in errors) == ["p/held", "p/locked"]
    assert all(e["code"] and set(e) == {"key", "code", "message"} for e in errors)
    assert sorted(v["Key"] for v in storage.list_object_versions("p/")) == ["p/held", "p/locked"]
    storage.put_legal_hold("p/held", False)
    assert storage.delete_keys([("p/held", versions["p/held"])]) == []
    rule = {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "p/"}, "Expiration": {"Days": 3}}
    storage.put_lifecycle_rules([rule])
    assert [r["ID"] for r in storage.lifecycle_rules()] == ["r"]
