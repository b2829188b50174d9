"""A sample TRAI summary report (daily and monthly) in a minute, with no Docker and no credentials.

Starts a local S3 server (moto) on a free loopback port, publishes a few synthetic days of CDR partitions with
the lake's own writer and publisher (one day of the month deliberately missing, so the report says so), runs the summary for a
day and for the month through ``TraiSummaryReportOperator``'s code path (lake -> DuckDB -> CSV/JSON/HTML/PDF,
published under ``{lake}/reports/trai_summary/``), and copies the reports to ``demo-output/summary/``.

    python scripts/summary_demo.py [--days 6] [--calls-per-day 20000] [--out demo-output/summary]

The full ``make demo`` runs the same reports from partitions ingested from the simulator instead
(:func:`run_summary_dags` is the piece it calls).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ACCOUNT = "MA_DEMO0001"
BUCKET = "vobiz-lake"
LAKE_URI = f"s3://{BUCKET}/lake"
HMAC_KEY = "demo-hmac-key-0001-not-for-production"


def run_summary_dags(bag, account_id: str, days: list[dt.date]) -> None:
    """Run the daily summary for each day and the monthly one for the last day's month, via ``dag.test()``."""
    daily = bag.dags["vobiz_trai_summary"]
    for day in days:
        run = daily.test(run_conf={"account_id": account_id, "call_date": day.isoformat()})
        if run.state != "success":
            raise SystemExit(f"vobiz_trai_summary failed for {day}")
    monthly = bag.dags["vobiz_trai_summary_monthly"]
    run = monthly.test(run_conf={"account_id": account_id, "month": days[-1].strftime("%Y-%m")})
    if run.state != "success":
        raise SystemExit("vobiz_trai_summary_monthly failed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--days", type=int, default=6, help="days written (default 6; the 3rd is left missing)")
    ap.add_argument("--calls-per-day", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=REPO / "demo-output" / "summary")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from tests.support.servers import moto_s3_server

    with moto_s3_server(access_key="demo") as s3:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = s3.conn_json()
        from airflow_provider_vobiz.lake.paths import LakeLayout
        from airflow_provider_vobiz.lake.storage import LakeStorage

        layout = LakeLayout.from_uri(LAKE_URI)
        storage = LakeStorage("aws_default", BUCKET)
        storage.client.create_bucket(Bucket=BUCKET)
        first = dt.date.fromisoformat(args.month + "-01")
        days = [first + dt.timedelta(days=i) for i in range(args.days) if i != 2]
        t0 = time.monotonic()
        write_days(storage, layout, days, args.calls_per_day)
        print(
            f"[summary demo] wrote {len(days)} days x {args.calls_per_day:,} calls to {LAKE_URI} "
            f"on {s3.endpoint_url}"
        )
        write_reports(storage, layout, [days[0].isoformat(), args.month], args.out)
        print(f"[summary demo] reports in {args.out} ({time.monotonic() - t0:.0f}s)")
        return 0


def write_days(storage, layout, days: list[dt.date], calls_per_day: int) -> None:
    """Publish each day (the second with 3 quarantined records) and record its quality verdict."""
    from airflow_provider_vobiz.lake.records import write_quality
    from tests.support import cdrgen

    for day in days:
        rejects = 3 if day == days[1] else 0
        manifest = cdrgen.publish_day(storage, layout, ACCOUNT, day, calls_per_day, seed=7, rejects=rejects)
        quality = {
            "status": "warning" if rejects else "passed",
            "content_sha256": manifest["content_sha256"],
        }
        write_quality(storage, layout, ACCOUNT, day, quality)


def write_reports(storage, layout, periods: list[str], out: Path) -> None:
    """The summary of each period, published to the lake and copied to ``out``."""
    from airflow_provider_vobiz.privacy import NumberPolicy
    from airflow_provider_vobiz.reports import summary

    policy = NumberPolicy(key=HMAC_KEY.encode())
    out.mkdir(parents=True, exist_ok=True)
    for period in periods:
        doc = summary.generate(storage.filesystem, layout, ACCOUNT, period)
        outputs = summary.render_outputs(doc, policy)
        keys = summary.publish(storage, layout, doc, outputs)
        for ext, data in outputs.items():
            (out / f"summary-{period}.{ext}").write_bytes(data)
        t = doc["totals"]
        print(
            f"[summary demo] {period}: {t['calls']:,} calls, ASR {t['asr']:.2%}, NER {t['ner']:.2%}, "
            f"missing days {len(doc['missing_days'])}, quality {doc['quality']['worst_status']}"
        )
        print(f"[summary demo]   published {keys['pdf']} (+ csv, json, html)")


if __name__ == "__main__":
    sys.exit(main())
