"""Corruption of a validated day is caught by quality (and the retention report) and repaired by a re-ingest.

The day comes from the simulator over HTTP into moto's S3 server, is validated, then one of its parts is
damaged behind the lake's back. The quality operator checks the parts against the manifest before it reuses
its recorded verdict, so it fails naming the partition and the part; the next ingest of the day sees that the
lake no longer matches the manifest, publishes the day again, and quality passes on the same verdict.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_vobiz.hooks.vobiz import VobizHook
from airflow_provider_vobiz.lake.ingest import ingest_day
from airflow_provider_vobiz.lake.manifest import read_manifest, write_manifest
from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.operators.quality import VobizCdrQualityOperator
from airflow_provider_vobiz.reports import retention as rr
from tests.fixtures.s3 import set_conn

pytestmark = pytest.mark.integration

ACCOUNT = "MA_DEMO0001"
DAY = "2026-03-02"


def _damage(data: bytes, kind: str) -> bytes | None:
    if kind == "delete":
        return None
    if kind == "truncate":
        return data[: len(data) // 2]
    middle = len(data) // 2  # a byte flip: same size, other bytes
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


@pytest.fixture
def day(vobiz_simulator, s3_lake, monkeypatch):
    set_conn(monkeypatch, "vobiz_default", vobiz_simulator.conn_json())
    hook = VobizHook("vobiz_default", backoff_base_seconds=0.01, backoff_max_seconds=0.05)
    storage, layout = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket), LakeLayout.from_uri(s3_lake.uri)

    def ingest() -> dict:
        return ingest_day(hook, storage, layout, ACCOUNT, DAY, row_group_rows=64, rows_per_part=128)

    def quality(**kwargs) -> dict:
        op = VobizCdrQualityOperator(
            task_id="quality", lake_uri=s3_lake.uri, call_date=DAY, account_id=ACCOUNT, **kwargs
        )
        return op.execute({"ti": mock.MagicMock()})

    return storage, layout, ingest, quality


@pytest.mark.parametrize("kind", ["flip", "truncate", "delete"])
def test_corruption_is_caught_by_quality_and_repaired_by_a_reingest(day, kind):
    storage, layout, ingest, quality = day
    first = ingest()
    assert first["parts"] == 3
    assert quality()["status"] == "passed"
    manifest = read_manifest(storage, layout, ACCOUNT, DAY)
    part = manifest["parts"][1]
    original = [storage.get_bytes(p["key"]) for p in manifest["parts"]]
    damaged = _damage(storage.get_bytes(part["key"]), kind)
    if damaged is None:
        storage.delete_keys([part["key"]])
    else:
        storage.put_bytes(part["key"], damaged)

    # The recorded verdict is not reused over parts that are not the ones it judged.
    name = part["key"].rsplit("/", 1)[-1]
    with pytest.raises(AirflowFailException) as err:
        quality()
    message = str(err.value)
    assert f"call_date={DAY}/" in message and name in message and "re-run of the ingest" in message
    with pytest.raises(AirflowFailException, match=name):
        quality(revalidate=True)
    # The retention report's full verification runs the same check.
    inv = rr.inventory(storage, layout, ACCOUNT, dt.date(2026, 3, 3), verify="full")
    (rec,) = [r for r in inv.days if r.call_date.isoformat() == DAY]
    assert rec.status == rr.STATUS_CHECKSUM_MISMATCH and name in rec.problems[0]

    # The next ingest sees the lake does not match the manifest and writes the day again.
    again = ingest()
    assert again["changed"] and again["repaired"] and not again["restated"]
    assert again["content_sha256"] == first["content_sha256"]
    repaired = read_manifest(storage, layout, ACCOUNT, DAY)
    assert [storage.get_bytes(p["key"]) for p in repaired["parts"]] == original  # byte for byte
    assert name in repaired["repairs"][0]["problems"][0]
    assert not storage.exists(part["key"]) or part["key"] in {p["key"] for p in repaired["parts"]}
    # Same content, so the recorded verdict holds again once the parts check out.
    verdict = quality()
    assert verdict["status"] == "passed" and verdict["content_sha256"] == first["content_sha256"]


def test_full_verification_catches_what_size_alone_cannot(day):
    """A manifest written before ETags were recorded: a byte flip keeps the size, so only the sha256 (verify
    "full") catches it."""
    storage, layout, ingest, quality = day
    ingest()
    manifest = read_manifest(storage, layout, ACCOUNT, DAY)
    for p in manifest["parts"]:
        del p["etag"]
    write_manifest(storage, layout, manifest)
    assert quality()["status"] == "passed"
    key = manifest["parts"][0]["key"]
    storage.put_bytes(key, _damage(storage.get_bytes(key), "flip"))
    assert quality()["status"] == "passed"  # size and (absent) ETag agree: the recorded verdict stands
    with pytest.raises(AirflowFailException, match="sha256 differs from the manifest"):
        quality(verify="full")
