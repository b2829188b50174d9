"""Run Airflow's real components (api-server, scheduler, dag-processor, Celery workers) as subprocesses.

The metadata database is a fresh PostgreSQL database on 127.0.0.1:5432 when one answers (required in CI), and a
SQLite file otherwise, so a user's laptop can still run the suite. A CeleryExecutor stack also needs PostgreSQL
(its result backend) and Redis on 127.0.0.1:6379, where it claims an empty database number of its own and
flushes it afterwards.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from airflow_provider_vobiz.hostname import WORKER_NAME_ENV
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
PG_DSN = "postgresql+psycopg2://postgres@127.0.0.1:5432/{db}"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def postgres_available() -> bool:
    try:
        import psycopg2

        psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3
        ).close()
        return True
    except Exception:
        return False


def require_celery_services() -> None:
    """Skip the calling test unless PostgreSQL and Redis answer on loopback; with CI=true, fail instead."""
    from tests.fixtures.system import require

    checks = (
        ("PostgreSQL on 127.0.0.1:5432", postgres_available()),
        ("Redis on 127.0.0.1:6379", redis_available()),
    )
    missing = " and ".join(name for name, up in checks if not up)
    require(not missing, f"CeleryExecutor needs {missing}, which does not answer here")


@contextmanager
def postgres_database(owner: str = "postgres", password: str = ""):
    """A fresh, uniquely named PostgreSQL database owned by ``owner`` (a login role with ``password``, made if
    absent); dropped after. Yields its name."""
    name = f"vobiz_e2e_{uuid.uuid4().hex[:10]}"
    if owner != "postgres":
        _pg_admin(
            f"DO $$ BEGIN CREATE ROLE \"{owner}\" LOGIN PASSWORD '{password}'; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    _pg_admin(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    try:
        yield name
    finally:
        with suppress(Exception):
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=3).ping())
    except Exception:
        return False


@contextmanager
def redis_database():
    """Claim an empty Redis database number (others may be testing on the same server); flush it after."""
    import redis

    admin = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5)
    count = int(admin.config_get("databases")["databases"])
    claim = f"vobiz-e2e-claim-{uuid.uuid4().hex}"
    for number in random.sample(range(1, count), count - 1):
        db = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number, socket_timeout=5)
        # An empty database whose claim key we set first is ours (SET NX is atomic).
        if db.dbsize() == 0 and db.set("vobiz-e2e-claim", claim, nx=True):
            break
    else:
        raise RuntimeError(f"no free Redis database number on {REDIS_HOST}:{REDIS_PORT}")
    try:
        yield number
    finally:
        with suppress(Exception):
            db.flushdb()


def _pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=5
    )
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@dataclass
class AirflowStack:
    home: Path
    env: dict[str, str]
    api_url: str
    database: str
    procs: list[subprocess.Popen] = field(default_factory=list)
    named: dict[str, subprocess.Popen] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=30)

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def start(self, *components: str, env: dict[str, str] | None = None, name: str | None = None) -> None:
        """Start each component (``"scheduler"``, ``"celery worker --queues q"``) in its own process group,
        its output in ``home/<name or component>.log``; ``env`` adds to the stack's environment."""
        for component in components:
            log_name = name or component
            log = open(self.home / f"{log_name}.log", "w")  # noqa: SIM115 - closed with the process group
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "airflow"), *component.split()],
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.procs.append(proc)
            self.named[log_name] = proc

    def start_worker(self, name: str, concurrency: int = 2, queues: str = "default") -> None:
        """A Celery worker called ``name`` (its ``task_instance.hostname`` too, through the provider's hostname callable),
        with a log server port of its own: two workers on one host would otherwise collide."""
        self.start(
            f"celery worker --celery-hostname {name}@%h --concurrency {concurrency} --queues {queues}",
            env={WORKER_NAME_ENV: name, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
            name=name,
        )

    def wait_for_log(self, name: str, text: str, timeout: float = 180) -> None:
        """Wait until component ``name``'s output contains ``text`` (a Celery worker prints ``ready.``)."""
        log = self.home / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in log.read_text(errors="replace"):
                return
            if self.named[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.named[name].returncode}:\n{self.logs()}")
            time.sleep(1)
        raise TimeoutError(f"{name} did not print {text!r} within {timeout}s:\n{self.logs()}")

    def kill_tree(self, name: str) -> int:
        """SIGKILL component ``name`` and every process under it (task processes included); returns how many."""
        import psutil

        root = psutil.Process(self.named[name].pid)
        tree = [root, *root.children(recursive=True)]
        for proc in tree:
            with suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(tree, timeout=30)
        self.named[name].wait(timeout=30)
        return len(tree)

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args} exited with {proc.returncode}; logs in {self.home}")
            try:
                r = httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=5)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as err:
                last = str(err)
            time.sleep(1)
        raise TimeoutError(f"Airflow api-server not healthy after {timeout}s: {last}; logs in {self.home}")

    def wait_for(self, predicate, timeout: float, what: str):
        """Poll ``predicate`` every 2 s until it returns something truthy, which is returned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(2)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{self.logs()}")

    def unpause_when_parsed(self, api: httpx.Client, dag_id: str, timeout: float = 180) -> None:
        self.wait_for(
            lambda: api.get(f"/api/v2/dags/{dag_id}").status_code == 200, timeout, f"{dag_id} parsed"
        )
        r = api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        assert r.status_code == 200, r.text

    @staticmethod
    def backfill(api: httpx.Client, dag_id: str, days: list[str], max_active_runs: int) -> int:
        """Backfill the IST days ``days`` (first to last): scheduled runs of a CronDataIntervalTimetable
        have logical date = interval start (IST midnight)."""
        r = api.post(
            "/api/v2/backfills",
            json={
                "dag_id": dag_id,
                "from_date": f"{days[0]}T00:00:00+05:30",
                "to_date": f"{days[-1]}T00:00:00+05:30",
                "max_active_runs": max_active_runs,
                "reprocess_behavior": "none",
                "run_backwards": False,
                "dag_run_conf": {},
            },
        )
        assert r.status_code == 200, r.text
        return r.json()["id"]

    @staticmethod
    def finished_runs(api: httpx.Client, dag_id: str, run_type: str, count: int | None = None) -> list | None:
        """The DAG's runs of ``run_type`` once all (and at least ``count``, or one) have finished, else None."""
        runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100}).json()["dag_runs"]
        runs = [run for run in runs if run.get("run_type") == run_type]
        if len(runs) >= (count or 1) and all(run["state"] in ("success", "failed") for run in runs):
            return runs
        return None

    @staticmethod
    def task_instances(api: httpx.Client, dag_id: str, run_id: str) -> list[dict]:
        r = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return r.json()["task_instances"]

    def logged(self, text: str) -> bool:
        """Whether any component printed ``text``."""
        return any(text in p.read_text(errors="replace") for p in self.home.glob("*.log"))

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.home.glob("*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs.clear()


def pipeline_env(simulator, lake) -> dict[str, str]:
    """Connections and Variables for the Vobiz DAGs: the simulator, the lake on moto's S3 server, no re-pulls."""
    return {
        "AIRFLOW_CONN_VOBIZ_DEFAULT": simulator.conn_json(),
        "AIRFLOW_CONN_AWS_DEFAULT": lake.server.conn_json(),
        "AIRFLOW_VAR_VOBIZ_LAKE_URI": lake.uri,
        "AIRFLOW_VAR_VOBIZ_REPULL_DAYS": "0",
        "AIRFLOW_CONN_VOBIZ_REPORT_HMAC": '{"conn_type": "generic", "password": "e2e-hmac-key-0123456789"}',
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    }


def summary_reports_done(
    stack: AirflowStack,
    api: httpx.Client,
    lake,
    account: str,
    days: list[str],
    nudge_after: list[float] | None = None,
):
    """The asset-triggered summary runs once all finished and every day in ``days`` has its JSON report.

    :param nudge_after: ``[monotonic time]`` after which, with every run finished and days still unreported,
        one partition event is announced again (then again a minute later) to release held Asset events.
    """
    from airflow_provider_vobiz.config import SUMMARY_DAG_ID
    from airflow_provider_vobiz.lake.paths import LakeLayout

    layout = LakeLayout.from_uri(lake.uri)
    runs = stack.finished_runs(api, SUMMARY_DAG_ID, "asset_triggered")
    reported = {
        day
        for day in days
        if lake.client()
        .list_objects_v2(Bucket=lake.bucket, Prefix=layout.summary_report_key(account, day, "json"))
        .get("KeyCount", 0)
    }
    if runs and reported == set(days):
        return runs
    if runs and nudge_after is not None and time.monotonic() > nudge_after[0]:
        # Every run finished and days are still unreported: Airflow holds the Asset events that came while
        # the summary DAG was at max_active_runs until another event arrives (an upstream bug). The next
        # day's partition event releases them in production; announce one reported day again to do the same.
        nudge_after[0] = time.monotonic() + 60
        _announce_partition(api, layout, account, sorted(reported or days)[-1], lake.uri)
    return None


def _announce_partition(api: httpx.Client, layout, account: str, day: str, lake_uri: str) -> None:
    """Post the partition Asset's event for ``day`` through the REST API, as a publish does."""
    from airflow_provider_vobiz.settings import CDR_PARTITION_ASSET

    assets = api.get("/api/v2/assets", params={"name_pattern": CDR_PARTITION_ASSET.name}).json()["assets"]
    asset_id = next(a["id"] for a in assets if a["name"] == CDR_PARTITION_ASSET.name)
    extra = {"account_id": account, "call_date": day, "lake_uri": lake_uri}
    api.post("/api/v2/assets/events", json={"asset_id": asset_id, "extra": extra}).raise_for_status()


@contextmanager
def airflow_stack(
    home: Path,
    extra_env: dict[str, str],
    *,
    require_postgres: bool = False,
    api_port: int | None = None,
    celery: bool = False,
):
    """Migrate a fresh metadata database and yield a stack ready to ``start()`` components.

    :param celery: CeleryExecutor on a Redis database of the stack's own, results in the metadata database
        (PostgreSQL is then required); start workers with :meth:`AirflowStack.start_worker`.
    """
    home.mkdir(parents=True, exist_ok=True)
    use_pg = postgres_available()
    if (require_postgres or celery) and not use_pg:
        raise RuntimeError("PostgreSQL on 127.0.0.1:5432 is required here but does not answer")
    cleanup = ExitStack()
    if use_pg:
        db_name = cleanup.enter_context(postgres_database())
        sql_conn = PG_DSN.format(db=db_name)
        database = f"PostgreSQL database {db_name} on 127.0.0.1:5432"
    else:
        sql_conn = f"sqlite:///{home / 'airflow.db'}"
        database = f"SQLite at {home / 'airflow.db'} (no PostgreSQL answered on 127.0.0.1:5432)"
    port = api_port or free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_conn,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "PYTHONPATH": str(REPO),
    }
    with cleanup:
        if celery:
            redis_db = cleanup.enter_context(redis_database())
            env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                    "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
                    "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sql_conn,
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_provider_vobiz.hostname.worker_hostname",
                }
            )
            database += f"; Celery broker Redis db {redis_db} on {REDIS_HOST}:{REDIS_PORT}"
        env.update(extra_env)
        stack = AirflowStack(home=home, env=env, api_url=api_url, database=database)
        try:
            stack.airflow("db", "migrate")
            yield stack
        finally:
            stack.stop()
