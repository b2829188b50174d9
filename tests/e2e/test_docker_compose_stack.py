"""docker-compose.yml, run without Docker: each Airflow service's own command and environment as a local process.

The compose file's service host names point at loopback: ``postgres`` at the local PostgreSQL (the compose
user and password, a fresh database), ``redis`` at the local Redis (a database number of the test's own),
``minio`` at moto's S3 server (with the bucket ``minio-init`` makes), ``simulator`` at the simulator service's
own command, and the api-server at a free port. So the executor, broker, result backend, JWT secret, login,
connections, Variables and remote task logs a backfill uses here are the compose file's. Only what cannot be
the same on one machine is added: AIRFLOW_HOME, the api-server's port and the log servers' ports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from airflow_provider_vobiz.config import INGEST_DAG_ID
from airflow_provider_vobiz.lake.paths import LakeLayout
from tests.e2e.airflow_stack import (
    REDIS_HOST,
    REDIS_PORT,
    REPO,
    AirflowStack,
    free_port,
    postgres_database,
    redis_database,
    require_celery_services,
)

pytestmark = pytest.mark.e2e

COMPOSE = REPO / "docker-compose.yml"
#: Where the Dockerfile copies this repository in the image.
IMAGE_PROVIDER_DIR = "/opt/airflow/provider"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")  # fmt: skip
DAYS = ["2026-03-02", "2026-03-03"]


def _container_port(service: dict, default: int) -> int:
    ports = service.get("ports") or [str(default)]
    return int(str(ports[0]).split(":")[-1])


def _localize(value: str, hosts: dict[str, str], database: str) -> str:
    """A compose environment value with service host names (and the image's paths) mapped to this machine."""
    value = re.sub(r"@postgres(:5432)?/\w+", f"@127.0.0.1:5432/{database}", value)
    for host, local in hosts.items():
        value = value.replace(host, local)
    return value.replace(IMAGE_PROVIDER_DIR, str(REPO))


def _simulator_command(service: dict, port: int) -> list[str]:
    args = [*service["entrypoint"], *service["command"]]
    args[0] = sys.executable  # "python" in the image
    args[args.index("--port") + 1] = str(port)
    args[args.index("--host") + 1] = "127.0.0.1"
    return args


def test_the_compose_stack_backfills_and_serves_task_logs(tmp_path, s3_server, capsys):
    require_celery_services()
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    pg_env = services["postgres"]["environment"]
    home = tmp_path / "airflow"
    home.mkdir()
    api_port, sim_port = free_port(), free_port()
    moto_hostport = s3_server.endpoint_url.removeprefix("http://")

    with (
        postgres_database(pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"]) as database,
        redis_database() as redis_db,
    ):
        hosts = {
            "redis:6379/0": f"{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
            f"minio:{_container_port(services['minio'], 9000)}": moto_hostport,
            f"simulator:{_container_port(services['simulator'], 8765)}": f"127.0.0.1:{sim_port}",
            f"airflow-apiserver:{_container_port(services['airflow-apiserver'], 8080)}": f"127.0.0.1:{api_port}",
            "localhost:8080": f"127.0.0.1:{api_port}",
        }
        compose_env = {
            k: _localize(str(v), hosts, database)
            for k, v in services["airflow-scheduler"]["environment"].items()
        }
        for name in AIRFLOW_SERVICES:
            assert {
                k: _localize(str(v), hosts, database) for k, v in services[name]["environment"].items()
            } == compose_env
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            **compose_env,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
        api_url = f"http://127.0.0.1:{api_port}"
        stack = AirflowStack(home=home, env=env, api_url=api_url, database=f"PostgreSQL database {database}")
        # minio-init: the lake's bucket.
        bucket = LakeLayout.from_uri(compose_env["AIRFLOW_VAR_VOBIZ_LAKE_URI"]).bucket
        s3 = s3_server.client()
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
        sim_log = open(home / "simulator.log", "w")  # noqa: SIM115 - closed below
        simulator = subprocess.Popen(
            _simulator_command(services["simulator"], sim_port), stdout=sim_log, stderr=subprocess.STDOUT
        )
        try:
            init = services["airflow-init"]["entrypoint"]
            subprocess.run(init, env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}, check=True,
                           capture_output=True, timeout=300)  # fmt: skip
            for name in AIRFLOW_SERVICES:
                stack.start(services[name]["command"], name=name)
            stack.wait_healthy(timeout=240)
            stack.wait_for_log("airflow-worker", " ready.", timeout=240)

            # The login the compose file's header promises.
            r = httpx.post(
                f"{api_url}/auth/token", json={"username": "admin", "password": "admin"}, timeout=30
            )
            assert r.status_code in (200, 201), r.text
            api = httpx.Client(
                base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {r.json()['access_token']}"}
            )
            stack.unpause_when_parsed(api, INGEST_DAG_ID, timeout=240)
            stack.backfill(api, INGEST_DAG_ID, DAYS, max_active_runs=1)
            runs = stack.wait_for(
                lambda: stack.finished_runs(api, INGEST_DAG_ID, "backfill", len(DAYS)), 420, "the backfill"
            )
            assert {run["state"] for run in runs} == {"success"}, f"{runs}\n{stack.logs()}"

            # A task's log, written by the worker to the lake's bucket, read back through the REST API.
            run_id = runs[0]["dag_run_id"]
            extract = next(
                ti
                for ti in stack.task_instances(api, INGEST_DAG_ID, run_id)
                if ti["task_id"].endswith("extract")
            )
            r = api.get(
                f"/api/v2/dags/{INGEST_DAG_ID}/dagRuns/{run_id}/taskInstances/{extract['task_id']}/logs/"
                f"{extract['try_number']}",
                params={"map_index": extract["map_index"]},
                headers={"Accept": "application/json"},
            )
            assert r.status_code == 200, r.text
            remote_folder = compose_env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"]
            assert remote_folder in r.text, r.text[:3000]
            log_prefix = remote_folder.removeprefix(f"s3://{bucket}/")
            logs = s3.list_objects_v2(Bucket=bucket, Prefix=log_prefix).get("KeyCount", 0)
            assert logs > 0
            with capsys.disabled():
                print(
                    f"\n[compose e2e] {len(runs)} backfill runs on CeleryExecutor from docker-compose.yml "
                    f"succeeded; {logs} task logs in {remote_folder}; {extract['task_id']} log read through "
                    f"the REST API ({len(r.text)} bytes)"
                )
        finally:
            stack.stop()
            simulator.terminate()
            simulator.wait(timeout=30)
            sim_log.close()
