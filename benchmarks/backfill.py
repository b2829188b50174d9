"""Backfill throughput on CeleryExecutor: N days of M calls with 1 and with 2 workers, in days per minute.

Each configuration is a fresh Airflow (api-server, scheduler, dag-processor; PostgreSQL database and Redis
database of its own, as in the end-to-end tests) backfilling ``vobiz_cdr_ingest`` from the simulator into
moto's S3 server. The clock runs from the backfill's creation to its last run finishing. The reference is the
1-worker run of the same invocation; the ratio is 2 workers over 1 worker. Needs PostgreSQL and Redis on
127.0.0.1 (``.ci/run`` starts them). Run on demand, not a test::

    python benchmarks/backfill.py --days 6 --calls 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_provider_vobiz.config import INGEST_DAG_ID  # noqa: E402
from airflow_provider_vobiz.simulator import SimulatorConfig, SimulatorServer  # noqa: E402
from tests.e2e.airflow_stack import airflow_stack, pipeline_env  # noqa: E402
from tests.fixtures.s3 import Lake  # noqa: E402
from tests.support.servers import S3Server, moto_s3_server  # noqa: E402

START = dt.date(2026, 3, 1)


def backfill_minutes(workers: int, days: int, sim: SimulatorServer, s3: S3Server, concurrency: int) -> float:
    """Minutes for a backfill of ``days`` days on ``workers`` Celery workers (a fresh stack each time)."""
    lake = Lake(server=s3, bucket=f"bench-{uuid.uuid4().hex[:10]}")
    s3.client().create_bucket(Bucket=lake.bucket)
    slots = workers * concurrency
    env = {
        **pipeline_env(sim, lake),
        # Neither the pool nor the scheduler may be what limits the workers.
        "AIRFLOW__VOBIZ__API_POOL_SLOTS": str(slots),
        "AIRFLOW__CORE__PARALLELISM": str(slots),
        # Only the ingest DAG runs (unpaused below): the report DAGs would compete for the same CPUs.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
    with (
        tempfile.TemporaryDirectory(prefix="vobiz-bench-backfill-") as home,
        airflow_stack(Path(home) / "airflow", env, celery=True) as stack,
    ):
        stack.start("api-server", "scheduler", "dag-processor")
        for n in range(workers):
            stack.start_worker(f"worker{n + 1}", concurrency=concurrency)
        stack.wait_healthy(timeout=300)
        for n in range(workers):
            stack.wait_for_log(f"worker{n + 1}", " ready.", timeout=300)
        api = stack.client()
        stack.unpause_when_parsed(api, INGEST_DAG_ID, timeout=300)
        dates = [(START + dt.timedelta(days=i)).isoformat() for i in range(days)]
        started = time.monotonic()
        stack.backfill(api, INGEST_DAG_ID, dates, max_active_runs=days)
        runs = stack.wait_for(
            lambda: stack.finished_runs(api, INGEST_DAG_ID, "backfill", days), 3600, "the backfill"
        )
        minutes = (time.monotonic() - started) / 60
        failed = [run["dag_run_id"] for run in runs if run["state"] != "success"]
        if failed:
            raise RuntimeError(f"backfill runs failed: {failed}\n{stack.logs()}")
    return minutes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14, help="days to backfill (default 14)")
    parser.add_argument("--calls", type=int, default=20000, help="calls per day (default 20000)")
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker (default 2)")
    args = parser.parse_args(argv)
    config = SimulatorConfig(start_date=START, days=args.days + 1, calls_per_day=args.calls, seed=7)
    results: dict[int, float] = {}
    with SimulatorServer(config) as sim, moto_s3_server(own_process=True) as s3:
        for workers in (1, 2):
            results[workers] = backfill_minutes(workers, args.days, sim, s3, args.concurrency)
            rate = args.days / results[workers]
            print(
                f"{workers} worker(s) x {args.concurrency} slots: {args.days} days of {args.calls} calls in "
                f"{results[workers]:.2f} min = {rate:.2f} days/min",
                flush=True,
            )
    print(f"ratio 2 workers / 1 worker: {results[1] / results[2]:.2f}x days per minute")
    return 0


if __name__ == "__main__":
    sys.exit(main())
