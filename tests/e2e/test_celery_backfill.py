"""Scale out: a week's backfill on CeleryExecutor with two workers, then one worker SIGKILLed mid-extract.

api-server, scheduler, dag-processor, triggerer and two ``airflow celery worker`` processes on a Redis database
of the test's own and a fresh PostgreSQL database (metadata and Celery results). PostgreSQL and Redis are
required in CI (CI=true); elsewhere the test is skipped when either does not answer.

Test-only settings keep it to a few minutes: a 20 s task heartbeat timeout (Airflow's default is 300 s) and,
through a cluster policy in the test's own ``airflow_local_settings.py``, a 3 s retry delay (the DAG's is 2 min).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_vobiz.cdr.window import DayWindow
from airflow_provider_vobiz.config import DEFAULT_TIMEZONE, INGEST_DAG_ID
from airflow_provider_vobiz.lake.manifest import read_manifest
from airflow_provider_vobiz.lake.paths import MANIFEST_NAME, LakeLayout
from airflow_provider_vobiz.lake.records import part_keys_of
from airflow_provider_vobiz.lake.storage import LakeStorage
from airflow_provider_vobiz.pools import API_POOL
from tests.e2e.airflow_stack import (
    airflow_stack,
    pipeline_env,
    require_celery_services,
    summary_reports_done,
)

pytestmark = pytest.mark.e2e

DAYS = [f"2026-03-{day:02d}" for day in range(1, 8)]
WORKERS = ("worker1", "worker2")
TEST_POLICY = '''
import datetime as dt


def task_policy(task):
    """Test-only: retry after 3 s, not the DAG's minutes, so a killed worker's task comes back quickly."""
    task.retry_delay = dt.timedelta(seconds=3)
    task.retry_exponential_backoff = False
'''


def _partition(storage: LakeStorage, layout: LakeLayout, account: str, day: str) -> tuple[pa.Table, dict]:
    manifest = read_manifest(storage, layout, account, day)
    parts = [pq.read_table(storage.path(p["key"]), filesystem=storage.filesystem) for p in manifest["parts"]]
    return pa.concat_tables(parts), manifest


def _part_bytes(lake, layout: LakeLayout, account: str, day: str) -> list[bytes]:
    """The bytes of the parts the day's manifest names, in part order (part names carry the publish's version,
    and the manifest records times and the lake, so neither is compared)."""
    client = lake.client()
    manifest_key = layout.manifest_key(account, day)
    manifest = json.loads(client.get_object(Bucket=lake.bucket, Key=manifest_key)["Body"].read())
    return [
        client.get_object(Bucket=lake.bucket, Key=key)["Body"].read()
        for key in part_keys_of(manifest, manifest_key[: -len(MANIFEST_NAME)])
    ]


def _overlapping(intervals: list[tuple[str, str]]) -> list[tuple]:
    ordered = sorted(intervals)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b[0] < a[1]]


def test_backfill_on_two_celery_workers_survives_a_killed_worker(
    tmp_path, simulator_factory, s3_lake, capsys
):
    require_celery_services()
    sim = simulator_factory(days=len(DAYS) + 1, calls_per_day=60)
    account = sim.config.auth_id
    layout = LakeLayout.from_uri(s3_lake.uri)
    storage = LakeStorage(s3_lake.aws_conn_id, s3_lake.bucket)
    home = tmp_path / "airflow"
    (home / "config").mkdir(parents=True)
    (home / "config" / "airflow_local_settings.py").write_text(TEST_POLICY)
    extra_env = {
        **pipeline_env(sim, s3_lake),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        # One export at a time, whatever the number of workers: the pool's size is the API's budget.
        "AIRFLOW__VOBIZ__API_POOL_SLOTS": "1",
    }

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n[celery e2e] {line}", end="")

    with airflow_stack(home, extra_env, celery=True) as stack:
        say(f"metadata database: {stack.database}")
        stack.start("api-server", "scheduler", "dag-processor", "triggerer")
        for name in WORKERS:
            stack.start_worker(name, concurrency=2)
        stack.wait_healthy(timeout=240)
        for name in WORKERS:
            stack.wait_for_log(name, " ready.", timeout=240)
        api = stack.client()
        stack.unpause_when_parsed(api, INGEST_DAG_ID, timeout=240)
        assert api.get(f"/api/v2/pools/{API_POOL}").json()["slots"] == 1

        # A week's backfill: every run succeeds, spread over both workers.
        sim.clear_requests()
        stack.backfill(api, INGEST_DAG_ID, DAYS, max_active_runs=len(DAYS))
        runs = stack.wait_for(
            lambda: stack.finished_runs(api, INGEST_DAG_ID, "backfill", len(DAYS)), 480, "the week's backfill"
        )
        assert {run["state"] for run in runs} == {"success"}, json.dumps(runs, indent=1)[:3000]
        tis = [ti for run in runs for ti in stack.task_instances(api, INGEST_DAG_ID, run["dag_run_id"])]
        assert tis and {ti["state"] for ti in tis} == {"success"}, json.dumps(tis, indent=1)[:3000]
        per_worker = Counter(ti["hostname"] for ti in tis)
        extracts = [ti for ti in tis if ti["task_id"].endswith("extract")]
        say(
            f"{len(runs)} backfill runs; {len(tis)} ingest tasks, per worker: {dict(sorted(per_worker.items()))}; "
            f"extracts per worker: {dict(sorted(Counter(ti['hostname'] for ti in extracts).items()))}"
        )
        assert set(per_worker) == set(WORKERS), per_worker

        # Pool size 1: no two extracts ever ran at once, and the API saw one day's export at a time.
        assert len(extracts) == len(DAYS)
        assert not _overlapping([(ti["start_date"], ti["end_date"]) for ti in extracts])
        # (Unpausing also started the latest scheduled run, whose day is outside the simulator's data.)
        windows = [q["start_date"] for endpoint, q, _ in sim.requests if endpoint == "export"]
        blocks = [w for i, w in enumerate(windows) if i == 0 or windows[i - 1] != w]
        assert len(blocks) == len(set(blocks)) >= len(DAYS), (
            f"exports of different days interleaved: {windows}"
        )

        # Kill: re-ingest the first day into a second lake, SIGKILL the worker running its extract (slowed
        # by the simulator so it is caught running), and the retry finishes on the other worker.
        killed_lake = f"s3://{s3_lake.bucket}/killed"
        sim.add_fault(kind="slow", endpoint="export", delay=20, times=1)
        r = api.post(
            f"/api/v2/dags/{INGEST_DAG_ID}/dagRuns",
            json={
                "dag_run_id": "kill-test",
                # A manual run's data interval is the last whole day before its logical date: DAYS[0]. (At
                # midnight exactly it would share its logical date with the backfill's run of the next day.)
                "logical_date": f"{dt.date.fromisoformat(DAYS[0]) + dt.timedelta(days=1)}T00:01:00+05:30",
                "conf": {"lake_uri": killed_lake, "repull_days": 0},
            },
        )
        assert r.status_code == 200, r.text

        def running_extract():
            for ti in stack.task_instances(api, INGEST_DAG_ID, "kill-test"):
                if (
                    ti["task_id"].endswith("extract")
                    and ti["state"] == "running"
                    and ti["hostname"] in WORKERS
                ):
                    return ti
            return None

        victim = stack.wait_for(running_extract, 240, "the kill run's extract to be running")["hostname"]
        killed = stack.kill_tree(victim)
        killed_at = time.monotonic()
        survivor = next(name for name in WORKERS if name != victim)

        def kill_run_finished():
            run = api.get(f"/api/v2/dags/{INGEST_DAG_ID}/dagRuns/kill-test").json()
            return run if run["state"] in ("success", "failed") else None

        run = stack.wait_for(kill_run_finished, 300, "the kill run to finish")
        assert run["state"] == "success", f"{run}\n{stack.logs()}"
        extract = next(
            ti
            for ti in stack.task_instances(api, INGEST_DAG_ID, "kill-test")
            if ti["task_id"].endswith("extract")
        )
        assert extract["try_number"] >= 2 and extract["hostname"] == survivor, extract
        say(
            f"SIGKILLed {victim} ({killed} processes) while it ran extract; try {extract['try_number']} "
            f"succeeded on {survivor} {time.monotonic() - killed_at:.0f}s later"
        )

        # The partitions' Asset events trigger the summary DAG, which reports each day. Airflow 3.3 holds the
        # events that arrive while it is at max_active_runs until a later event comes (an upstream bug,
        # github.com/apache/airflow/issues/56050): here the kill run's, in production the next day's.
        nudge = [time.monotonic() + 90]
        triggered = stack.wait_for(
            lambda: summary_reports_done(stack, api, s3_lake, account, DAYS, nudge),
            300,
            "the week's summary reports",
        )
        assert {run["state"] for run in triggered} == {"success"}, json.dumps(triggered, indent=1)[:3000]

    # Every day's partition holds exactly the simulator's calls of that IST day: none missing, none twice.
    for day in DAYS:
        table, manifest = _partition(storage, layout, account, day)
        window = DayWindow.for_day(day, DEFAULT_TIMEZONE)
        truth = sorted(r["uuid"] for r in sim.records(window.start, window.end))
        assert sorted(table.column("uuid").to_pylist()) == truth, day
        assert manifest["row_count"] == len(truth)
    # The killed run's partition is byte for byte the clean run's.
    killed_layout = LakeLayout.from_uri(killed_lake)
    clean, recovered = (_part_bytes(s3_lake, lay, account, DAYS[0]) for lay in (layout, killed_layout))
    assert clean and recovered == clean
    say(f"partition {DAYS[0]} after the kill is byte-identical to the clean run's ({len(clean)} files)")
