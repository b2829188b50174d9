"""The real thing: scheduler, dag-processor and api-server (LocalExecutor) backfill three days of ingest.

PostgreSQL on 127.0.0.1:5432 (a fresh database per run) is the metadata database; where none answers (a
laptop) the same test runs on SQLite, and in CI (CI=true) PostgreSQL is required.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from tests.e2e.airflow_stack import airflow_stack

pytestmark = pytest.mark.e2e

DAG_ID = "vobiz_cdr_ingest"
SUMMARY_DAG_ID = "vobiz_trai_summary"
DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]


def _exists(lake, key: str) -> bool:
    return lake.client().list_objects_v2(Bucket=lake.bucket, Prefix=key).get("KeyCount", 0) > 0


def _wait_for(predicate, timeout: float, what: str, stack):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{stack.logs()}")


def test_three_day_backfill_through_the_scheduler(tmp_path, vobiz_simulator, s3_lake, capsys):
    in_ci = os.environ.get("CI", "").lower() == "true"
    extra_env = {
        "AIRFLOW_CONN_VOBIZ_DEFAULT": vobiz_simulator.conn_json(),
        "AIRFLOW_CONN_AWS_DEFAULT": s3_lake.server.conn_json(),
        "AIRFLOW_VAR_VOBIZ_LAKE_URI": s3_lake.uri,
        "AIRFLOW_VAR_VOBIZ_REPULL_DAYS": "0",
        "AIRFLOW_CONN_VOBIZ_REPORT_HMAC": '{"conn_type": "generic", "password": "e2e-hmac-key-0123456789"}',
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    }
    with airflow_stack(tmp_path / "airflow", extra_env, require_postgres=in_ci) as stack:
        layout = LakeLayout.from_uri(s3_lake.uri)
        account = vobiz_simulator.config.auth_id
        with capsys.disabled():
            print(f"\n[e2e] metadata database: {stack.database}")
        stack.start("api-server", "scheduler", "dag-processor")
        stack.wait_healthy()
        api = stack.client()

        _wait_for(
            lambda: api.get(f"/api/v2/dags/{DAG_ID}").status_code == 200, 180, "the DAG to be parsed", stack
        )
        assert api.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).status_code == 200

        # Scheduled runs of a CronDataIntervalTimetable have logical date = interval start (IST midnight).
        r = api.post(
            "/api/v2/backfills",
            json={
                "dag_id": DAG_ID,
                "from_date": f"{DAYS[0]}T00:00:00+05:30",
                "to_date": f"{DAYS[-1]}T00:00:00+05:30",
                "max_active_runs": 3,
                "reprocess_behavior": "none",
                "run_backwards": False,
                "dag_run_conf": {},
            },
        )
        assert r.status_code == 200, r.text
        backfill_id = r.json()["id"]

        def finished_runs():
            runs = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 50}).json()["dag_runs"]
            runs = [run for run in runs if run.get("run_type") == "backfill"]
            if len(runs) == len(DAYS) and all(run["state"] in ("success", "failed") for run in runs):
                return runs
            return None

        runs = _wait_for(finished_runs, 600, "the backfill's three runs to finish", stack)
        states = {run["dag_run_id"]: run["state"] for run in runs}
        assert all(state == "success" for state in states.values()), f"{states}\n{stack.logs()}"

        for run in runs:
            tis = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances").json()[
                "task_instances"
            ]
            assert tis and all(ti["state"] == "success" for ti in tis), json.dumps(tis, indent=1)[:3000]
        assert api.get(f"/api/v2/backfills/{backfill_id}").status_code == 200

        # The partitions' Asset events trigger the summary DAG, which reports each announced day.
        def summary_runs_done():
            runs = api.get(f"/api/v2/dags/{SUMMARY_DAG_ID}/dagRuns", params={"limit": 50}).json()["dag_runs"]
            runs = [run for run in runs if run.get("run_type") == "asset_triggered"]
            reported = {
                day for day in DAYS if _exists(s3_lake, layout.summary_report_key(account, day, "json"))
            }
            if runs and all(run["state"] in ("success", "failed") for run in runs) and reported == set(DAYS):
                return runs
            return None

        triggered = _wait_for(
            summary_runs_done, 300, "asset-triggered summary reports of the three days", stack
        )
        assert all(run["state"] == "success" for run in triggered), json.dumps(triggered, indent=1)[:3000]

    # Each backfilled day is a published, validated partition in the lake.
    client = s3_lake.client()
    for day in DAYS:
        body = client.get_object(Bucket=s3_lake.bucket, Key=layout.manifest_key(account, day))["Body"]
        manifest = json.loads(body.read())
        assert manifest["call_date"] == day
        assert manifest["row_count"] > 0
        body = client.get_object(Bucket=s3_lake.bucket, Key=layout.verdict_key(account, day))["Body"]
        verdict = json.loads(body.read())
        assert verdict["status"] in ("passed", "warning")
        assert verdict["content_sha256"] == manifest["content_sha256"]
