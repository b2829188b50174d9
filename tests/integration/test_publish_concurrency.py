"""Two publishes of the same day at once, interleaved at every request, then a third with the newest pull.

Each writer has its own boto3 client on the real S3 server; a botocore ``before-send`` hook pauses writer A
before its request number ``n``, writer B then runs as far as it can (it waits for A's lease, or publishes
first when A has not taken it yet), and A is released. Which pull is newer (``extracted_at``) is varied too.
Whatever the order: both calls end without error, the newer pull is what readers see, every history entry is
there (the chain of archived manifests is complete), and a third, newest pull wins in the end.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import PublishConflictError, publish_partition
from airflow_provider_vobiz.lake.storage import LakeStorage
from tests.fixtures.partition_checks import (
    base_manifest,
    history_chain,
    leftovers,
    local_table,
    make_parts,
    manifest_true,
)

T_OLD, T_NEW, T_NEWEST = "2026-05-12T06:00:00Z", "2026-05-12T06:00:00.5Z", "2026-05-12T09:00:00Z"


class Gate:
    """Pauses a client before its request number ``at`` (0-based) until released; counts requests."""

    def __init__(self, client, at: int | None) -> None:
        self.at, self.sent = at, 0
        self.paused, self.release = threading.Event(), threading.Event()
        client.meta.events.register("before-send.s3", self._before_send)

    def _before_send(self, **_kwargs):
        if self.at is not None and self.sent == self.at:
            self.paused.set()
            self.release.wait(30)
        self.sent += 1


def _writer(s3_lake, layout, rows, parts, extracted_at, owner, gate_at=None, **kwargs):
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    gate = Gate(storage.client, gate_at)
    out: dict = {}

    def run():
        try:
            out["result"] = publish_partition(
                storage, layout, base_manifest(rows, extracted_at), parts, owner=owner, **kwargs
            )
        except Exception as err:  # judged by the test
            out["error"] = err
        finally:
            gate.paused.set()

    return threading.Thread(target=run, daemon=True), gate, out


@pytest.fixture(scope="module")
def contents(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contents")
    return {
        "base": make_parts(tmp / "base", 10, 8),
        "a": make_parts(tmp / "a", 14, 8, first=100),
        "b": make_parts(tmp / "b", 17, 8, first=200),
        "c": make_parts(tmp / "c", 19, 8, first=300),
    }


# Requests of a restatement by writer A: lease, manifest, listing, 2 parts, archive, lease check, manifest,
# two listings for garbage, its deletion, the lease release. Pause A before each, with A the older or the newer.
@pytest.mark.parametrize("a_is_newer", [False, True], ids=["older-first", "newer-first"])
@pytest.mark.parametrize("pause_at", range(13))
def test_overlapping_publishes_of_a_day(s3_lake, contents, pause_at, a_is_newer):
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    layout = LakeLayout.from_uri(f"s3://{s3_lake.bucket}/p{pause_at}-{uuid.uuid4().hex[:6]}")
    publish_partition(storage, layout, base_manifest(10, "2026-05-12T00:00:00Z"), contents["base"])
    t_a, t_b = (T_NEW, T_OLD) if a_is_newer else (T_OLD, T_NEW)
    thread_a, gate_a, out_a = _writer(s3_lake, layout, 14, contents["a"], t_a, "run-a", gate_at=pause_at)
    thread_b, gate_b, out_b = _writer(s3_lake, layout, 17, contents["b"], t_b, "run-b", lease_wait=20)
    thread_a.start()
    assert gate_a.paused.wait(30)
    thread_b.start()
    # B either finishes (A had not taken the lease yet) or finds A's lease taken (its create and its read of
    # the lease went out): then let A go.
    deadline = time.monotonic() + 15
    while thread_b.is_alive() and gate_b.sent < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    gate_a.release.set()
    thread_a.join(30)
    thread_b.join(30)
    assert "error" not in out_a and "error" not in out_b, (out_a, out_b)

    newer = contents["a"] if a_is_newer else contents["b"]
    assert manifest_true(storage, layout).equals(local_table(newer))
    history = history_chain(storage, layout)
    # base -> (older ->) newer: the older pull is in the history only if it was published before the newer.
    assert 1 <= len(history) <= 2
    assert leftovers(storage, layout) == []

    # A third pull, the newest, wins, and the chain of versions is still whole.
    writer = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    res = publish_partition(writer, layout, base_manifest(19, T_NEWEST), contents["c"], owner="run-c")
    assert res.restated
    assert manifest_true(storage, layout).equals(local_table(contents["c"]))
    assert len(history_chain(storage, layout)) == len(history) + 1
    assert leftovers(storage, layout) == []


def test_a_writer_that_stalls_past_its_lease_cannot_overwrite(s3_lake, contents):
    """A pauses after taking a 1-second lease; B takes the expired lease over and publishes; A then fails with
    a retryable error instead of overwriting B, and removes what it wrote."""
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    layout = LakeLayout.from_uri(f"s3://{s3_lake.bucket}/stall")
    publish_partition(storage, layout, base_manifest(10, "2026-05-12T00:00:00Z"), contents["base"])
    # Pause A before its lease check (after lease, manifest, listing, 2 parts and the archive).
    thread_a, gate_a, out_a = _writer(
        s3_lake, layout, 14, contents["a"], T_NEW, "run-a", gate_at=6, lease_seconds=1
    )
    thread_a.start()
    assert gate_a.paused.wait(30)
    thread_b, _, out_b = _writer(s3_lake, layout, 17, contents["b"], T_OLD, "run-b", lease_wait=20)
    thread_b.start()
    thread_b.join(30)
    assert out_b["result"].restated
    gate_a.release.set()
    thread_a.join(30)
    assert isinstance(out_a.get("error"), PublishConflictError)
    assert "Retry" in str(out_a["error"])
    assert manifest_true(storage, layout).equals(local_table(contents["b"]))
    assert leftovers(storage, layout) == []
    # A's retry (the newer pull) wins.
    publish_partition(storage, layout, base_manifest(14, T_NEW), contents["a"], owner="run-a")
    assert manifest_true(storage, layout).equals(local_table(contents["a"]))
    assert len(history_chain(storage, layout)) == 2
