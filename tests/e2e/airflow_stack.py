"""Run Airflow's real components (api-server, scheduler, dag-processor) as subprocesses for a test or the demo.

The metadata database is a fresh PostgreSQL database on 127.0.0.1:5432 when one answers (required in CI), and a
SQLite file otherwise, so a user's laptop can still run the suite.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
PG_DSN = "postgresql+psycopg2://postgres@127.0.0.1:5432/{db}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_available() -> bool:
    try:
        import psycopg2

        psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3
        ).close()
        return True
    except Exception:
        return False


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

    def start(self, *components: str) -> None:
        for component in components:
            log = open(self.home / f"{component}.log", "w")  # noqa: SIM115 - closed with the process group
            self.procs.append(
                subprocess.Popen(
                    [str(Path(sys.executable).parent / "airflow"), *component.split()],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

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


@contextmanager
def airflow_stack(
    home: Path, extra_env: dict[str, str], *, require_postgres: bool = False, api_port: int | None = None
):
    """Migrate a fresh metadata database and yield a stack ready to ``start()`` components."""
    home.mkdir(parents=True, exist_ok=True)
    use_pg = postgres_available()
    if require_postgres and not use_pg:
        raise RuntimeError("PostgreSQL on 127.0.0.1:5432 is required here (CI=true) but does not answer")
    db_name = f"vobiz_e2e_{uuid.uuid4().hex[:10]}"
    if use_pg:
        _pg_admin(f'CREATE DATABASE "{db_name}"')
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
        **extra_env,
    }
    stack = AirflowStack(home=home, env=env, api_url=api_url, database=database)
    try:
        stack.airflow("db", "migrate")
        yield stack
    finally:
        stack.stop()
        if use_pg:
            with suppress(Exception):
                _pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
