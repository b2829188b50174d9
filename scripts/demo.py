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
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
ACCOUNT = "MA_DEMO0001"
BUCKET = "vobiz-lake"
LAKE_URI = f"s3://{BUCKET}/lake"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


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

    # Airflow reads its configuration at import: set everything first. The task logs (thousands of lines for
    # a week) are hidden unless asked for; a failing task's error still shows.
    if not args.verbose:
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_VAR_VOBIZ_LAKE_URI=LAKE_URI,
        AWS_EC2_METADATA_DISABLED="true",
    )

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

    from airflow_provider_vobiz.simulator import SimulatorConfig, SimulatorServer

    s3_port = _free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    s3_endpoint = f"http://127.0.0.1:{s3_port}"
    sim = SimulatorServer(
        SimulatorConfig(
            auth_id=ACCOUNT,
            auth_token="demo-token-0001",
            seed=7,
            start_date=start,
            days=args.days + 1,
            calls_per_day=args.calls_per_day,
            date_filter_timezone="Asia/Kolkata",
            # Some CDRs reach the API a day late, so the next runs' re-pull restates their day.
            late_fraction=0.02,
            late_delay=dt.timedelta(hours=20),
        )
    ).start()
    mail = start_mail(home)
    try:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=s3_endpoint,
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
            region_name="us-east-1",
        ).create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        os.environ.update(
            AIRFLOW_CONN_VOBIZ_DEFAULT=sim.conn_json(),
            AIRFLOW_CONN_AWS_DEFAULT=json.dumps(
                {
                    "conn_type": "aws",
                    "login": "demo",
                    "password": "demo",
                    "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
                }
            ),
            AIRFLOW_CONN_VOBIZ_REPORT_HMAC=json.dumps(
                {"conn_type": "generic", "password": "demo-hmac-key-0001"}
            ),
        )
        _say(f"Vobiz API simulator on {sim.base_url}; S3 server on {s3_endpoint}; lake {LAKE_URI}")
        _say(f"Airflow home {home} (metadata database: SQLite)")
        if not args.verbose:
            _say("task logs are hidden: `make demo VERBOSE=1` shows them")

        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.initdb()
        bag = DagBag(str(REPO / "dags"))
        if bag.import_errors:
            raise SystemExit(f"DAG import errors: {bag.import_errors}")
        for dag in bag.dags.values():
            for task in dag.tasks:
                task.retries = 0  # the demo reports a failure at once instead of waiting out retry delays
        ingest = bag.dags["vobiz_cdr_ingest"]

        for day in days:
            # The day's run happens the next morning (IST); late CDRs of this day appear only later.
            next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), IST)
            sim.set_now((next_midnight + dt.timedelta(hours=2)).astimezone(dt.timezone.utc))
            t0 = time.monotonic()
            run = ingest.test(logical_date=next_midnight)
            _say(f"ingest {day}: {run.state} in {time.monotonic() - t0:.1f}s")
            if run.state != "success":
                raise SystemExit(f"vobiz_cdr_ingest failed for {day}; see the log above")

        run_reports(bag, days)
        copied = copy_lake(out)
        print_table(day_table(days))
        say_mail(mail, home, out)
        _say(f"The lake ({LAKE_URI} on the S3 server) is mirrored to {out / 'lake'} ({copied} objects):")
        _say(f"  reports:    {out / 'index.html'} (HTML, PDF, CSV, JSON per day, month and as-of date)")
        _say(f"  partitions: {out / 'lake' / 'cdr'} (Hive-style Parquet, one _manifest.json per day)")
        _say(f"  quality:    {out / 'lake' / 'quality'} (validation.json and validation.html per day)")
        _say(f"  tokenised:  {out / 'lake' / 'cdr_tokenised'} (phone numbers as keyed HMAC tokens)")
        from airflow_provider_vobiz.lake.ddl import ddl_script

        (out / "vobiz_athena.sql").write_text(ddl_script("athena", LAKE_URI))
        _say(f"  tables:     {out / 'vobiz_athena.sql'} (Athena DDL; Spark, Trino, DuckDB: docs/lake.md)")
        _say(
            '  query it:   .venv/bin/python -c "import duckdb; print(duckdb.sql(\\"SELECT call_date, count(*) '
            f"FROM read_parquet('{out}/lake/cdr/**/*.parquet', hive_partitioning=true) GROUP BY ALL "
            'ORDER BY 1\\"))"'
        )
        verify_mirrored_reports(out)
        _say(f"Done in {time.monotonic() - started:.0f}s.")
        if args.keep:
            keep_airflow_running(home)
        return 0
    finally:
        mail.stop()
        sim.stop()
        s3.stop()
        shutil.rmtree(home, ignore_errors=True)


def start_mail(home: Path):
    """A local SMTP server (aiosmtpd, free port) and the notification Variables that send to it."""
    from tests.fixtures.mail import MailSink

    mail = MailSink(save_to=home / "mail").start()
    os.environ.update(
        AIRFLOW_CONN_VOBIZ_SMTP=mail.conn_json("vobiz-demo@example.test"),
        AIRFLOW_VAR_VOBIZ_NOTIFY_SMTP_CONN_ID="vobiz_smtp",
        AIRFLOW_VAR_VOBIZ_NOTIFY_REPORT_RECIPIENTS="compliance@example.test",
        AIRFLOW_VAR_VOBIZ_NOTIFY_ALERT_RECIPIENTS="data-oncall@example.test",
    )
    return mail


def say_mail(mail, home: Path, out: Path) -> None:
    if (home / "mail").is_dir():
        shutil.copytree(home / "mail", out / "mail")
    _say(
        f"{len(mail.received)} mail(s) sent to the local SMTP server on port {mail.port}, copies in {out / 'mail'}:"
    )
    for n, msg in enumerate(mail.received, 1):
        _say(f"  {n:03d}.eml  to {', '.join(msg.rcpt_tos)}: {msg.subject}")


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
        _say(f"summary report {day}: {run.state} in {time.monotonic() - t0:.1f}s")
        if run.state != "success":
            raise SystemExit(f"vobiz_trai_summary failed for {day}; see the log above")
    month = days[0].strftime("%Y-%m")
    t0 = time.monotonic()
    run = bag.dags["vobiz_trai_summary_monthly"].test(
        logical_date=dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(6), IST),
        run_conf={"account_id": ACCOUNT, "month": month, "lake_uri": LAKE_URI},
    )
    _say(f"summary report {month}: {run.state} in {time.monotonic() - t0:.1f}s")
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
    _say(f"retention report as of {as_of}: {run.state} in {time.monotonic() - t0:.1f}s")
    if run.state != "success":
        raise SystemExit("vobiz_trai_retention failed; see the log above")
    _say_retention(as_of)


def _say_retention(as_of: dt.date) -> None:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

    layout = LakeLayout.from_uri(LAKE_URI)
    report = LakeStorage("aws_default", layout.bucket).get_json(
        layout.retention_report_key(ACCOUNT, as_of, "json")
    )
    totals = report["totals"]
    locked = report["enforcement"]["object_lock"]
    _say(
        f"retention window {report['window']['start']}..{report['window']['end']} ({report['window']['days']} days): "
        f"{totals['verified_days']} verified, coverage {totals['coverage']:.2%}, {len(totals['gaps'])} gap(s); "
        f"Object Lock applied to {len(locked.get('applied', []))} partition(s)"
    )


def day_table(days: list[dt.date]) -> list[dict]:
    from airflow_provider_vobiz.lake.manifest import read_manifest
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.records import read_quality
    from airflow_provider_vobiz.lake.storage import LakeStorage

    layout = LakeLayout.from_uri(LAKE_URI)
    storage = LakeStorage("aws_default", layout.bucket)
    rows = []
    for day in days:
        m = read_manifest(storage, layout, ACCOUNT, day) or {}
        rows.append(
            {
                "call_date": day.isoformat(),
                "calls": m.get("row_count", 0),
                "quality": read_quality(storage, layout, ACCOUNT, day, m).get("status", "-") if m else "-",
                "rejects": (m.get("rejects") or {}).get("count", 0),
                "restatements": len(m.get("history") or []),
                "parts": len(m.get("parts") or []),
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    cols = ["call_date", "calls", "quality", "rejects", "restatements", "parts"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print()
    print("  ".join(c.ljust(widths[c]) for c in cols))
    print("  ".join("-" * widths[c] for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    print()


def copy_lake(out: Path) -> int:
    """Mirror the whole lake to ``out/lake`` and write ``out/index.html`` linking every report."""
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

    layout = LakeLayout.from_uri(LAKE_URI)
    storage = LakeStorage("aws_default", layout.bucket)
    shutil.rmtree(out, ignore_errors=True)
    root = out / "lake"
    copied, reports = 0, []
    for obj in storage.list_objects(layout.key("")):
        rel = obj["Key"][len(layout.prefix) :].lstrip("/")
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            for chunk in storage.iter_chunks(obj["Key"]):
                fh.write(chunk)
        copied += 1
        if obj["Key"].startswith(layout.reports_root):
            reports.append(f"lake/{rel}")
    items = "\n".join(f'<li><a href="{rel}">{rel}</a></li>' for rel in sorted(reports))
    (out / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Vobiz demo reports</title>"
        f"<h1>Vobiz demo reports</h1><ul>{items}</ul>"
    )
    return copied


def verify_mirrored_reports(out: Path) -> None:
    """Check every current report in the mirror against the mirrored lake, as an auditor would, and say how."""
    from airflow_provider_vobiz.verify import MATCH, open_report, verify_report

    reports = sorted(p for p in (out / "lake" / "reports").rglob("*.json") if "_superseded" not in p.parts)
    checked = []
    for path in reports:
        report, _, lake = open_report(str(path))
        checked += verify_report(report, lake)
    bad = [c for c in checked if c.status != MATCH]
    _say(
        f"Audit trail: {len(checked) - len(bad)} of {len(checked)} inputs cited by {len(reports)} reports "
        f"match the lake{'' if not bad else ' (NOT: ' + ', '.join(f'{c.call_date} {c.status}' for c in bad) + ')'}."
    )
    if reports:
        month = next(
            (p for p in reports if p.parent.name.startswith("period=") and len(p.parent.name) == 14),
            reports[0],
        )
        _say(f"  check one:  .venv/bin/python -m airflow_provider_vobiz.verify {month}")
    if bad:
        raise SystemExit("a report's inputs do not match the lake it was made from")


def keep_airflow_running(home: Path) -> None:
    """Serve Airflow (with the compliance reports page) on loopback until Ctrl-C.

    The simulator and the S3 server live in this process, so it stays up while the api-server runs. Users
    of Airflow's SimpleAuthManager: ``officer`` (viewer) and ``admin``, with passwords written beforehand to
    the file the auth manager reads.
    """
    import secrets
    import signal
    import subprocess

    import httpx

    from airflow_provider_vobiz.plugins.compliance import page_url

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    passwords = {"officer": secrets.token_urlsafe(9), "admin": secrets.token_urlsafe(9)}
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps(passwords) + "\n")
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
    log_path = home / "api-server.log"
    airflow = str(Path(sys.executable).parent / "airflow")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"airflow api-server stopped; see {log_path}")
            try:
                if httpx.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"airflow api-server did not become healthy in 120 s; see {log_path}")
            time.sleep(0.5)
        print()
        _say(f"Airflow is running at {base_url} (log: {log_path}).")
        _say(f"Compliance reports page: {page_url(base_url)}")
        _say(
            f"  sign in as officer / {passwords['officer']}  (read-only viewer; admin / {passwords['admin']})"
        )
        _say("  then click 'Compliance reports' in the navigation bar. Ctrl-C stops everything.")
        proc.wait()
    except KeyboardInterrupt:
        _say("stopping Airflow")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
