"""Benchmark: the whole monthly TRAI summary (all figures, before rendering) against merely reading the
columns it needs from the lake, in the same run.

A month of ``--days`` synthetic days of ``--rows`` calls each (default 30 x 1,000,000) is published once
(``tests.support.cdrgen``: the lake's own writer and publisher) and mirrored as a local lake (``LakeLayout``
keys under a local directory, read through a pyarrow filesystem exactly as the S3 one), then each case runs ``--runs`` times in a fresh process, alternating:

- ``read``:   stream the report's columns of the period's partitions (``pyarrow.dataset`` scanner, the same
              dataset the report builds), touching every batch: the floor for any engine;
- ``report``: ``summary.generate(...)``: manifests, the one-scan cube, every metric.

Prints the median wall time and peak RSS of each, and the ratio (goal: report <= 3x read, RSS < 1.5 GB).

    python benchmarks/report.py                       # 30 x 1M (first run writes ~1.9 GB of Parquet)
    python benchmarks/report.py --days 3 --rows 100000 --runs 3    # quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ACCOUNT = "MA_BENCH"
BUCKET = "bench-lake"


def _fs(data_dir: Path):
    import pyarrow.fs as pafs

    data_dir.mkdir(parents=True, exist_ok=True)
    return pafs.SubTreeFileSystem(str(data_dir), pafs.LocalFileSystem())


def _layout():
    from airflow_provider_vobiz.lake.paths import LakeLayout

    return LakeLayout(BUCKET, "lake")


def _days(month: str, n: int) -> list[dt.date]:
    first = dt.date.fromisoformat(month + "-01")
    return [first + dt.timedelta(days=i) for i in range(n)]


def prepare(data_dir: Path, month: str, days: int, rows: int) -> None:
    """Publish the synthetic month once and mirror it to ``data_dir`` (days already there are skipped).

    Each day is published by the lake's own writer and publisher (on moto's S3 server, in its own process),
    so its parts and manifest are what an ingest writes; the benchmark then reads the local mirror.
    """
    fs, layout = _fs(data_dir), _layout()
    todo = [day for day in _days(month, days) if not _prepared(fs, layout, day, rows)]
    if not todo:
        return
    os.environ.setdefault("AIRFLOW_HOME", str(Path(tempfile.gettempdir()) / "vobiz-bench-airflow"))
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from airflow_provider_vobiz.lake.storage import LakeStorage
    from tests.support import cdrgen
    from tests.support.servers import moto_s3_server

    t0 = time.perf_counter()
    with moto_s3_server(own_process=True) as s3:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = s3.conn_json()
        storage = LakeStorage("aws_default", BUCKET)
        storage.client.create_bucket(Bucket=BUCKET)
        for written, day in enumerate(todo, 1):
            manifest = cdrgen.publish_day(storage, layout, ACCOUNT, day, rows)
            size = _mirror(storage, fs, data_dir, layout, day, manifest)
            rate = written * rows / (time.perf_counter() - t0)
            print(f"  wrote {day} ({size / 1e6:.0f} MB), {rate:,.0f} rows/s", flush=True)


def _prepared(fs, layout, day: dt.date, rows: int) -> bool:
    """Whether the mirror holds a published manifest of ``day`` with ``rows`` rows."""
    import pyarrow.fs as pafs

    path = f"{BUCKET}/{layout.manifest_key(ACCOUNT, day)}"
    if fs.get_file_info(path).type != pafs.FileType.File:
        return False
    with fs.open_input_stream(path) as f:
        manifest = json.loads(f.read())
    return manifest["row_count"] == rows and bool(manifest.get("version"))


def _mirror(storage, fs, data_dir: Path, layout, day: dt.date, manifest: dict) -> int:
    """Copy the day's manifest and parts to the local mirror, then drop the parts from the S3 server (its
    memory holds one day at a time); returns the bytes of the parts."""
    from tests.support.mirror import mirror_lake

    prefix = f"{BUCKET}/{layout.partition_prefix(ACCOUNT, day)}"
    fs.create_dir(prefix)
    fs.delete_dir_contents(prefix)
    keys = [p["key"] for p in manifest["parts"]]
    mirror_lake(
        storage, layout, data_dir / BUCKET / layout.prefix, [*keys, layout.manifest_key(ACCOUNT, day)]
    )
    storage.delete_keys(keys)
    return sum(p["bytes"] for p in manifest["parts"])


def case(name: str, data_dir: Path, month: str, days: int) -> dict:
    from airflow_provider_vobiz.reports import summary

    fs, layout = _fs(data_dir), _layout()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru0.ru_utime + ru0.ru_stime
    t0 = time.perf_counter()
    inputs = summary.collect_inputs(fs, layout, ACCOUNT, _days(month, days))
    if name == "read":
        dataset = summary.open_dataset(fs, layout, inputs)
        rows = nbytes = 0
        for batch in dataset.to_batches(columns=list(summary.COLUMNS_READ)):
            rows += batch.num_rows
            nbytes += batch.nbytes
        result: dict = {"rows": rows, "bytes": nbytes}
    else:
        # What summary.generate does, over the days written (a month, or fewer with --days).
        config = summary.SummaryConfig()
        figures = summary.compute_figures(fs, layout, inputs, config)
        doc = summary.build_summary(
            ACCOUNT, month, inputs, figures, config, provider_version="bench", generated_at="bench"
        )
        result = {"rows": doc["totals"]["calls"], "asr": doc["totals"]["asr"]}
    ru = resource.getrusage(resource.RUSAGE_SELF)
    result["seconds"] = time.perf_counter() - t0
    result["cpu_seconds"] = ru.ru_utime + ru.ru_stime - cpu0
    result["peak_rss_mb"] = ru.ru_maxrss / 1024
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--data-dir", type=Path, default=HERE / ".data" / "report")
    ap.add_argument("--case", choices=("read", "report"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not 1 <= args.days <= 31:
        ap.error("--days must be 1 to 31 (days of one month)")
    if args.case:
        print(json.dumps(case(args.case, args.data_dir, args.month, args.days)))
        return 0

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"preparing {args.days} days x {args.rows:,} calls in {args.data_dir} ...", flush=True)
    prepare(args.data_dir, args.month, args.days, args.rows)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    results: dict[str, list[dict]] = {"read": [], "report": []}
    for i in range(args.runs):
        for name in ("read", "report"):
            cmd = [sys.executable, __file__, "--case", name, "--days", str(args.days), "--month", args.month]
            cmd += ["--data-dir", str(args.data_dir)]
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            results[name].append(r)
            print(
                f"  run {i + 1} {name:6s} {r['seconds']:6.2f} s (CPU {r['cpu_seconds']:6.2f} s)  "
                f"peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    total = args.days * args.rows
    assert all(r["rows"] == total for rs in results.values() for r in rs), "a case did not see every row"
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    cpu = {k: statistics.median(r["cpu_seconds"] for r in v) for k, v in results.items()}
    rss = {k: max(r["peak_rss_mb"] for r in v) for k, v in results.items()}
    from airflow_provider_vobiz.reports.summary import COLUMNS_READ

    print()
    print(
        f"TRAI summary benchmark: {args.days} days x {args.rows:,} calls = {total:,} calls, {args.runs} runs each"
    )
    print(f"  machine: {os.cpu_count()} CPUs, load average at the end {os.getloadavg()[0]:.1f}")
    print(
        f"  read the report's {len(COLUMNS_READ)} columns (reference): median {med['read']:.2f} s "
        f"(CPU {cpu['read']:.2f} s), peak RSS {rss['read']:.0f} MB"
    )
    print(
        f"  whole monthly report (all figures, before rendering): median {med['report']:.2f} s "
        f"(CPU {cpu['report']:.2f} s), peak RSS {rss['report']:.0f} MB"
    )
    print(
        f"  ratio report / read: {med['report'] / med['read']:.2f}x wall, {cpu['report'] / cpu['read']:.2f}x CPU "
        f"(goal <= 3x); report peak RSS {rss['report']:.0f} MB (goal < 1536 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
