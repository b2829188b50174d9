"""The real thing: scheduler, dag-processor and api-server (LocalExecutor) backfill three days of ingest.

PostgreSQL on 127.0.0.1:5432 (a fresh database per run) is the metadata database; where none answers (a
laptop) the same test runs on SQLite, and in CI (CI=true) PostgreSQL is required.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_vobiz.lake.paths import LakeLayout
from airflow_provider_vobiz.pools import API_POOL, DEFAULT_API_POOL_SLOTS
from tests.e2e.airflow_stack import airflow_stack, pipeline_env, summary_reports_done
from tests.fixtures.system import in_ci

pytestmark = pytest.mark.e2e

DAG_ID = "vobiz_cdr_ingest"
DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]


def test_three_day_backfill_through_the_scheduler(tmp_path, vobiz_simulator, s3_lake, capsys):
    extra_env = pipeline_env(vobiz_simulator, s3_lake)
    with airflow_stack(tmp_path / "airflow", extra_env, require_postgres=in_ci()) as stack:
        layout = LakeLayout.from_uri(s3_lake.uri)
        account = vobiz_simulator.config.auth_id
        with capsys.disabled():
            print(f"\n[e2e] metadata database: {stack.database}")
        stack.start("api-server", "scheduler", "dag-processor")
        stack.wait_healthy()
        api = stack.client()

        stack.unpause_when_parsed(api, DAG_ID)
        backfill_id = stack.backfill(api, DAG_ID, DAYS, max_active_runs=3)
        runs = stack.wait_for(
            lambda: stack.finished_runs(api, DAG_ID, "backfill", len(DAYS)),
            600,
            "the backfill's three runs to finish",
        )
        states = {run["dag_run_id"]: run["state"] for run in runs}
        assert all(state == "success" for state in states.values()), f"{states}\n{stack.logs()}"

        for run in runs:
            tis = stack.task_instances(api, DAG_ID, run["dag_run_id"])
            assert tis and all(ti["state"] == "success" for ti in tis), json.dumps(tis, indent=1)[:3000]
        assert api.get(f"/api/v2/backfills/{backfill_id}").status_code == 200

        # No pool was made for this fresh database: starting the scheduler created vobiz_api, and said so.
        pool = api.get(f"/api/v2/pools/{API_POOL}").json()
        assert pool["slots"] == DEFAULT_API_POOL_SLOTS, pool
        assert stack.logged(f"Pool {API_POOL} did not exist: created it with"), stack.logs()

        # The partitions' Asset events trigger the summary DAG, which reports each announced day.
        triggered = stack.wait_for(
            lambda: summary_reports_done(stack, api, s3_lake, account, DAYS),
            300,
            "asset-triggered summary reports of the three days",
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
