"""Benchmark: the retention inventory of a two-year window (731 days) in "manifest" mode.

Seeds a lake with 731 published days (one small Parquet part, its manifest and a passed verdict each,
published by the lake's own writer and publisher) on a local moto S3 server, then times:

- the inventory as built (one paginated listing, manifests fetched on a thread pool), the figure that matters;
- the reference, measured in the same run: the naive inventory that probes each day's manifest one by one;
- "full" mode (re-hash every part) and the sampled field completeness, for scale.

Run: ``PYTHONPATH=. python benchmarks/retention.py [--as-of 2025-03-01] [--rows 50]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import moto_s3_server  # noqa: E402

ACCOUNT = "MA_BENCH01"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--as-of", default="2025-03-01", help="as-of day (default 2025-03-01: a 731-day window)")
    p.add_argument("--rows", type=int, default=50, help="rows per seeded day")
    p.add_argument("--workers", type=int, default=10)
    args = p.parse_args(argv)

    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    # The publisher logs a line per seeded day.
    logging.getLogger("airflow_provider_vobiz.lake.publish").setLevel(logging.WARNING)
    os.environ.setdefault("AIRFLOW_HOME", str(Path("/tmp") / "vobiz-bench-airflow"))
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    # moto's server in its own process, as S3 would be: in-process it would share this process's GIL.
    with moto_s3_server(own_process=True, access_key="bench") as s3:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = s3.conn_json()
        from airflow_provider_vobiz.lake.paths import LakeLayout
        from airflow_provider_vobiz.lake.storage import LakeStorage

        client = s3.client()
        client.create_bucket(Bucket="bench-lake")
        layout = LakeLayout.from_uri("s3://bench-lake/lake")
        storage = LakeStorage("aws_default", layout.bucket)
        as_of = dt.date.fromisoformat(args.as_of)
        days = seed(storage, layout, as_of, args.rows, args.workers)
        measure(storage, layout, as_of, days, args.workers)
        return 0


def seed(storage, layout, as_of: dt.date, rows: int, workers: int) -> list[dt.date]:
    """One small partition for every day of the retention window ending at ``as_of``, published as the
    ingest publishes it and judged passed (as a validated day is); returns the days."""
    from airflow_provider_vobiz.lake import retention as enforce
    from airflow_provider_vobiz.lake.records import write_quality
    from airflow_provider_vobiz.reports import retention as rr
    from tests.support.lake_data import clean_day, write_partition

    start, end = enforce.retention_window(as_of)
    days = rr.window_days(start, end)

    def publish(day: dt.date) -> None:
        manifest = write_partition(storage, layout, ACCOUNT, day, clean_day(rows, day, seed=day.toordinal()))
        verdict = {"status": "passed", "content_sha256": manifest["content_sha256"]}
        write_quality(storage, layout, ACCOUNT, day, verdict)

    t0 = time.perf_counter()
    storage.connect()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(publish, days))
    print(f"seeded {len(days)} days ({rows} rows each) in {time.perf_counter() - t0:.1f}s")
    return days


def measure(storage, layout, as_of: dt.date, days: list[dt.date], workers: int) -> None:
    """Time the inventory (manifest and full modes), the completeness sample and the rendering, against
    probing every day's manifest one after the other; print them."""
    from airflow_provider_vobiz.reports import retention as rr

    # Reference: probe every day's manifest one after the other.
    t0 = time.perf_counter()
    found = sum(storage.get_json(layout.manifest_key(ACCOUNT, d)) is not None for d in days)
    naive = time.perf_counter() - t0
    assert found == len(days)

    t0 = time.perf_counter()
    inv = rr.inventory(storage, layout, ACCOUNT, as_of, verify="manifest", max_workers=workers)
    manifest_s = time.perf_counter() - t0
    assert len(inv.days) == len(days) and all(r.status == rr.STATUS_PRESENT for r in inv.days)

    t0 = time.perf_counter()
    comp = rr.completeness(storage, inv, mode="sample")
    sample_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    rr.inventory(storage, layout, ACCOUNT, as_of, verify="full", max_workers=workers)
    full_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    report = rr.build_report(inv, completeness_result=comp, lake_uri=layout.uri)
    rendered = rr.render(report)
    render_s = time.perf_counter() - t0

    print(f"window {days[0]} .. {days[-1]}: {len(days)} days, {inv.listed_objects} objects listed")
    print(f"inventory, manifest mode (listing + {workers} threads): {manifest_s:6.2f} s")
    print(f"reference, sequential manifest probes:                {naive:6.2f} s")
    print(f"ratio reference / inventory:                          {naive / manifest_s:6.1f}x")
    print(f"inventory, full mode (re-hash {len(days)} parts):          {full_s:6.2f} s")
    print(
        f"completeness, sample of {comp['days_checked']} days ({comp['rows_checked']} rows):       {sample_s:6.2f} s"
    )
    sizes = ", ".join(f"{k} {len(v) // 1024} KiB" for k, v in rendered.items())
    print(f"build + render four formats:                          {render_s:6.2f} s ({sizes})")


if __name__ == "__main__":
    sys.exit(main())
