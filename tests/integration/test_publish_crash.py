"""SIGKILL a publishing process after each of its S3 requests in turn, then check what readers see and heal.

A fork server (publish_child.py) imports the provider once and forks one real process per kill point; the
child counts its requests with a botocore hook and SIGKILLs itself before request ``n + 1``, so exactly ``n``
requests reached the moto server. After each kill a reader who follows the manifest must see exactly the old
or exactly the new version of the day; then a re-run by the same task (which takes over the dead child's
lease) must publish the new version byte for byte and leave no object of the killed publish behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.lake.publish import publish_partition
from airflow_provider_vobiz.lake.storage import LakeStorage
from tests.fixtures.partition_checks import (
    base_manifest,
    leftovers,
    local_table,
    make_parts,
    manifest_true,
    published_bytes,
)

REPO = Path(__file__).resolve().parents[2]
OWNER = "vobiz_cdr_ingest/extract/scheduled__2026-05-12/0"


@pytest.fixture(scope="module")
def fork_server(s3_server):
    env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": s3_server.conn_json(), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("publish_child.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )

    def run(command: dict) -> dict:
        proc.stdin.write(json.dumps(command) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, "the fork server died"
        return json.loads(line)

    try:
        yield run
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


SCENARIOS = {
    # name: (rows of the old version or 0 for a first publish, rows of the new, rows per part, rejects)
    "first-single-part": (0, 12, 1000, False),
    "first-multi-part": (0, 20, 8, True),
    "restate-single-part": (10, 12, 1000, True),
    "restate-multi-part": (20, 30, 8, False),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_sigkill_after_each_request_of_a_publish(fork_server, s3_server, monkeypatch, tmp_path, scenario):
    old_rows, new_rows, per_part, with_rejects = SCENARIOS[scenario]
    bucket = f"crash-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", s3_server.conn_json())
    storage = LakeStorage("aws_default", bucket)
    old = make_parts(tmp_path / "old", old_rows, per_part) if old_rows else []
    new = make_parts(tmp_path / "new", new_rows, per_part, first=500)
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_text('{"reason": "bad", "record": {}}\n')
    new_table, old_table = local_table(new), local_table(old) if old else None
    new_bytes = [Path(p.path).read_bytes() for p in new]

    def prepare(point: str) -> LakeLayout:
        layout = LakeLayout.from_uri(f"s3://{bucket}/{point}")
        if old:
            publish_partition(storage, layout, base_manifest(old_rows), old)
        return layout

    def command(layout: LakeLayout, kill_after: int | None) -> dict:
        return {
            "lake_uri": layout.uri,
            "manifest": base_manifest(new_rows, "2026-05-12T06:00:00Z"),
            "parts": [dataclasses.asdict(p) for p in new],
            "rejects": str(rejects) if with_rejects else None,
            "owner": OWNER,
            "kill_after": kill_after,
        }

    # A publish that runs to the end: how many requests it makes.
    full = fork_server(command(prepare("full"), None))
    assert not full["killed"] and full["exit"] == 0, full
    total = int(full["report"])
    assert total >= (8 if not old else 10)

    seen = {"old": 0, "new": 0}
    for n in range(total):
        layout = prepare(f"k{n}")
        answer = fork_server(command(layout, n))
        assert answer["killed"], (n, answer)
        # The reader who follows the manifest: exactly the old or exactly the new version, never a mix.
        view = manifest_true(storage, layout)
        if view is None or (old_table is not None and view.equals(old_table)):
            assert view is None or old, n
            seen["old"] += 1
        else:
            assert view.equals(new_table), f"killed after request {n}: a mixed view"
            seen["new"] += 1
        # The task's retry takes over the dead child's lease, publishes the new version, collects the rest.
        publish_partition(
            storage,
            layout,
            base_manifest(new_rows, "2026-05-12T06:00:00Z"),
            new,
            str(rejects) if with_rejects else None,
            owner=OWNER,
            lease_wait=0,
        )
        assert published_bytes(storage, layout) == new_bytes, n
        assert manifest_true(storage, layout).equals(new_table)
        assert leftovers(storage, layout) == [], f"killed after request {n}: objects left in flight"
    # Both sides of the one commit point were hit.
    assert seen["old"] > 0 and seen["new"] > 0, seen
