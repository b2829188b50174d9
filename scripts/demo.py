"""`make demo`: the main job end to end on the embedded default, in a few minutes, with no Docker and no credentials.

1. starts the bundled Vobiz API simulator and a local S3 server (moto) on free loopback ports;
2. runs the ``vobiz_cdr_ingest`` DAG through real Airflow (``dag.test()``) for a week of days, advancing the
   simulator's clock one day per run, so late CDRs appear and the daily re-pull restates their partitions;
3. runs the TRAI summary (daily and monthly) and retention report DAGs;
4. prints a per-day table (calls, quality, restatements) and where everything is, copies the reports to
   ``demo-output/`` and the mails a local SMTP server received (reports, alerts) to ``demo-output/mail/``,
   and stops the servers. ``--keep`` (``make demo KEEP=1``) then keeps an Airflow api-server
   with the compliance-reports page running until Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from demo_lake import (  # noqa: E402 (scripts/, the directory of this script, is on sys.path)
    ACCOUNT,
    BUCKET,
    LAKE_URI,
    copy_lake,
    day_table,
    print_table,
    say,
    say_mail,
    say_outputs,
    say_retention,
    verify_mirrored_reports,
)

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start-date", default="2026-03-01", help="first call day (default 2026-03-01)")
    p.add_argument("--days", type=int, default=7, help="days ingested through Airflow (default 7)")
    p.add_argument("--calls-per-day", type=int, default=2000, help="simulated calls per day (default 2000)")
    p.add_argument("--out", default=str(REPO / "demo-output"), help="where the reports are copied")
    p.add_argument(
        "--keep", action="store_true", help="keep an Airflow api-server with the reports page running"
    )
    p.add_argument("--verbose", action="store_true", help="show every task's log (progress, counts, timings)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    start = dt.date.fromisoformat(args.start_date)
    days = [start + dt.timedelta(days=n) for n in range(args.days)]
    out = Path(args.out)
    home = Path(tempfile.mkdtemp(prefix="vobiz-demo-airflow-"))
    configure_airflow(home, args.verbose)

    import logging

    from tests.support.servers import moto_s3_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    with ExitStack() as stack:  # stopped in reverse: mail, simulator, S3 server, then the Airflow home
        stack.callback(shutil.rmtree, home, ignore_errors=True)
        s3 = stack.enter_context(moto_s3_server(access_key="demo"))
        sim = start_simulator(start, args.days, args.calls_per_day)
        stack.callback(sim.stop)
        mail = start_mail(home)
        stack.callback(mail.stop)
        connect(s3, sim)
        say(f"Vobiz API simulator on {sim.base_url}; S3 server on {s3.endpoint_url}; lake {LAKE_URI}")
        say(f"Airflow home {home} (metadata database: SQLite)")
        if not args.verbose:
            say("task logs are hidden: `make demo VERBOSE=1` shows them")

        bag = load_dags()
        run_ingest(bag, sim, days)
        run_reports(bag, days)
        copied = copy_lake(out)
        print_table(day_table(days))
        say_mail(mail, home, out)
        say_outputs(out, copied)
        verify_mirrored_reports(out)
        say(f"Done in {time.monotonic() - started:.0f}s.")
        if args.keep:
            keep_airflow_running(home)
        return 0


def configure_airflow(home: Path, verbose: bool) -> None:
    """Airflow reads its configuration at import: set everything first. The task logs (thousands of lines
    for a week) are hidden unless asked for; a failing task's error still shows."""
    if not verbose:
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_VAR_VOBIZ_LAKE_URI=LAKE_URI,
        AWS_EC2_METADATA_DISABLED="true",
    )


def start_simulator(start: dt.date, days: int, calls_per_day: int):
    """The bundled Vobiz API simulator on a free port, a day longer than the demo ingests."""
    from airflow_provider_vobiz.simulator import SimulatorConfig, SimulatorServer

    return SimulatorServer(
        SimulatorConfig(
            auth_id=ACCOUNT,
            auth_token="demo-token-0001",
            seed=7,
            start_date=start,
            days=days + 1,
            calls_per_day=calls_per_day,
            date_filter_timezone="Asia/Kolkata",
            # Some CDRs reach the API a day late, so the next runs' re-pull restates their day.
            late_fraction=0.02,
            late_delay=dt.timedelta(hours=20),
        )
    ).start()


def connect(s3, sim) -> None:
    """The lake's bucket (Object Lock on, as the retention run locks partitions) and Airflow's connections."""
    s3.client().create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    os.environ.update(
        AIRFLOW_CONN_VOBIZ_DEFAULT=sim.conn_json(),
        AIRFLOW_CONN_AWS_DEFAULT=s3.conn_json(),
        AIRFLOW_CONN_VOBIZ_REPORT_HMAC=json.dumps({"conn_type": "generic", "password": "demo-hmac-key-0001"}),
    )


def load_dags():
    """A fresh metadata database and the repo's DAGs, with retries off."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.initdb()
    bag = DagBag(str(REPO / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    for dag in bag.dags.values():
        for task in dag.tasks:
            task.retries = 0  # the demo reports a failure at once instead of waiting out retry delays
    return bag


def run_ingest(bag, sim, days: list[dt.date]) -> None:
    """The ingest DAG for each day, the simulator's clock set to the morning after."""
    ingest = bag.dags["vobiz_cdr_ingest"]
    for day in days:
        # The day's run happens the next morning (IST); late CDRs of this day appear only later.
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), IST)
        sim.set_now((next_midnight + dt.timedelta(hours=2)).astimezone(dt.timezone.utc))
        t0 = time.monotonic()
        run = ingest.test(logical_date=next_midnight)
        say(f"ingest {day}: {run.state} in {time.monotonic() - t0:.1f}s")
        if run.state != "success":
            raise SystemExit(f"vobiz_cdr_ingest failed for {day}; see the log above")


def start_mail(home: Path):
    """A local SMTP server (aiosmtpd, free port) and the notification Variables that send to it."""
    from tests.support.mail import MailSink

    mail = MailSink(save_to=home / "mail").start()
    os.environ.update(
        AIRFLOW_CONN_VOBIZ_SMTP=mail.conn_json("vobiz-demo@example.test"),
        AIRFLOW_VAR_VOBIZ_NOTIFY_SMTP_CONN_ID="vobiz_smtp",
        AIRFLOW_VAR_VOBIZ_NOTIFY_REPORT_RECIPIENTS="compliance@example.test",
        AIRFLOW_VAR_VOBIZ_NOTIFY_ALERT_RECIPIENTS="data-oncall@example.test",
    )
    return mail


def run_reports(bag, days: list[dt.date]) -> None:
    """The summary (each day and the month) and retention report DAGs, through dag.test()."""
    last = days[-1]
    summary = bag.dags["vobiz_trai_summary"]
    for day in days:
        # In production the ingest's Asset events trigger these runs; dag.test() runs them by hand.
        t0 = time.monotonic()
        run = summary.test(
            logical_date=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1), IST),
            run_conf={"account_id": ACCOUNT, "call_date": day.isoformat(), "lake_uri": LAKE_URI},
        )
        say(f"summary report {day}: {run.state} in {time.monotonic() - t0:.1f}s")
        if run.state != "success":
            raise SystemExit(f"vobiz_trai_summary failed for {day}; see the log above")
    month = days[0].strftime("%Y-%m")
    t0 = time.monotonic()
    run = bag.dags["vobiz_trai_summary_monthly"].test(
        logical_date=dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(6), IST),
        run_conf={"account_id": ACCOUNT, "month": month, "lake_uri": LAKE_URI},
    )
    say(f"summary report {month}: {run.state} in {time.monotonic() - t0:.1f}s")
    if run.state != "success":
        raise SystemExit(f"vobiz_trai_summary_monthly failed for {month}; see the log above")
    retention = bag.dags["vobiz_trai_retention"]
    # As of the morning after the last ingested day: the window ends on that day. The demo bucket has
    # Object Lock enabled, so the run also locks the new partitions (governance mode).
    as_of = last + dt.timedelta(days=1)
    t0 = time.monotonic()
    run = retention.test(
        logical_date=dt.datetime.combine(as_of, dt.time(6), IST),
        run_conf={"account_id": ACCOUNT, "object_lock_mode": "governance"},
    )
    say(f"retention report as of {as_of}: {run.state} in {time.monotonic() - t0:.1f}s")
    if run.state != "success":
        raise SystemExit("vobiz_trai_retention failed; see the log above")
    say_retention(as_of)


def keep_airflow_running(home: Path) -> None:
    """Serve Airflow (with the compliance reports page) on loopback until Ctrl-C.

    The simulator and the S3 server live in this process, so it stays up while the api-server runs. Users
    of Airflow's SimpleAuthManager: ``officer`` (viewer) and ``admin``, with passwords written beforehand to
    the file the auth manager reads.
    """
    import secrets

    from airflow_provider_vobiz.plugins.compliance import page_url
    from tests.support.servers import free_port

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    passwords = {"officer": secrets.token_urlsafe(9), "admin": secrets.token_urlsafe(9)}
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps(passwords) + "\n")
    log_path = home / "api-server.log"
    proc = start_api_server(port, base_url, log_path)
    try:
        wait_healthy(proc, base_url, log_path)
        print()
        say(f"Airflow is running at {base_url} (log: {log_path}).")
        say(f"Compliance reports page: {page_url(base_url)}")
        say(
            f"  sign in as officer / {passwords['officer']}  (read-only viewer; admin / {passwords['admin']})"
        )
        say("  then click 'Compliance reports' in the navigation bar. Ctrl-C stops everything.")
        proc.wait()
    except KeyboardInterrupt:
        say("stopping Airflow")
    finally:
        stop_process_group(proc)


def start_api_server(port: int, base_url: str, log_path: Path) -> subprocess.Popen:
    """``airflow api-server`` on loopback in its own process group, logging to ``log_path``."""
    import secrets

    env = {
        **os.environ,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "officer:viewer,admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_healthy(proc: subprocess.Popen, base_url: str, log_path: Path, timeout: float = 120) -> None:
    """Return once the api-server answers its health check; exit if it stops or takes too long."""
    from tests.support.servers import wait_for_http

    try:
        wait_for_http(f"{base_url}/api/v2/monitor/health", proc, timeout)
    except ChildProcessError:
        raise SystemExit(f"airflow api-server stopped; see {log_path}") from None
    except TimeoutError:
        raise SystemExit(
            f"airflow api-server did not become healthy in {timeout:.0f} s; see {log_path}"
        ) from None


def stop_process_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process's group, SIGKILL after 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
