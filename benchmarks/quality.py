"""Benchmark: validating a 1M-call day with the whole quality suite, reading it from S3 included.

Seeds one realistic day (``tests.support.lake_data.clean_day``, written by the lake's own Parquet writer and
publisher) on a local moto S3 server running in its own process, then runs each case in a fresh Python
process, ``--runs`` times, and prints medians (min-max) of the measured section and of the process's peak RSS:

- ``validate``: ``validate_partition`` as the operator calls it: read the suite's columns from S3, import GX,
  validate, write validation.json/html, record the manifest status. The figure that matters. As in a
  worker, Airflow and the Amazon provider are imported before the clock starts; GX's import is inside.
- ``validate+fingerprint``: the same with GX's whole-DataFrame md5 left on (the GX default).
- ``read (reference)``: read the same columns from S3 into pandas, nothing else: the floor that any
  validation of the day pays. The ratio validate / read is the cost of the checks themselves.
- ``read all columns``: the same read without projection, to show what projection saves.

Run: ``PYTHONPATH=. python benchmarks/quality.py [--rows 1000000] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import moto_s3_server  # noqa: E402

ACCOUNT = "MA_BENCH0001"
DAY = dt.date(2026, 3, 2)
BUCKET = "vobiz-quality-bench"
LAKE_URI = f"s3://{BUCKET}/lake"
CASES = ("validate", "validate+fingerprint", "read (reference)", "read all columns")


def _env(endpoint: str) -> None:
    os.environ.setdefault("AIRFLOW_HOME", "/tmp/vobiz-bench-airflow")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "bench",
            "password": "bench",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    )


def _lake():
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

    layout = LakeLayout.from_uri(LAKE_URI)
    return LakeStorage("aws_default", BUCKET), layout


def seed(rows: int) -> dict:
    from tests.support.lake_data import clean_day, write_partition

    storage, layout = _lake()
    storage.client.create_bucket(Bucket=BUCKET)
    t0 = time.perf_counter()
    table = clean_day(rows, DAY, seed=2026)
    manifest = write_partition(storage, layout, ACCOUNT, DAY, table)
    print(
        f"seeded {rows:,} rows in {len(manifest['parts'])} part(s), "
        f"{sum(p['bytes'] for p in manifest['parts']) / 1e6:.1f} MB, in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    return manifest


def child(case: str) -> None:
    """One measured run; prints a JSON line with the section's seconds."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("airflow_provider_vobiz.quality").setLevel(logging.INFO)
    # A worker has Airflow and the Amazon provider imported before the task starts; GX is imported by the
    # task itself (lazily, in execute), so its import is inside the measured section.
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # noqa: F401

    storage, layout = _lake()
    t0, cpu0 = time.perf_counter(), time.process_time()
    extra: dict = {}
    if case.startswith("validate"):
        from airflow_provider_vobiz.quality import validate_partition

        result = validate_partition(
            storage, layout, ACCOUNT, DAY, gx_fingerprint=case == "validate+fingerprint"
        )
        extra = {"status": result.status, "rows": result.rows, "expectations": len(result.checks)}
    else:
        from airflow_provider_vobiz.cdr.schema import FILE_SCHEMA
        from airflow_provider_vobiz.lake.manifest import read_manifest
        from airflow_provider_vobiz.quality import load_suite
        from airflow_provider_vobiz.quality.validate import read_columns

        manifest = read_manifest(storage, layout, ACCOUNT, DAY)
        keys = [p["key"] for p in manifest["parts"]]
        columns = load_suite().columns if case == "read (reference)" else tuple(FILE_SCHEMA.names)
        df = read_columns(storage, keys, columns).to_pandas(self_destruct=True, split_blocks=True)
        extra = {"rows": len(df), "columns": len(df.columns)}
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(json.dumps({"seconds": seconds, "section_cpu": cpu, **extra}), flush=True)


def run_case(case: str) -> tuple[float, float, float, dict]:
    """(section s, process wall s, peak RSS MB, extra) of one fresh-process run."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", case],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        text=True,
    )
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"case {case!r} failed with exit code {proc.returncode}")
    line = json.loads(out.strip().splitlines()[-1])
    # RUSAGE_CHILDREN's peak is over every child waited for: each runner process has exactly one.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return line.pop("seconds"), wall, usage.ru_maxrss / 1024, line


def _measure(case: str) -> None:
    """Runner process (one per measurement): run one child, report its section, wall time and peak RSS."""
    seconds, wall, peak, extra = run_case(case)
    print(json.dumps({"seconds": seconds, "wall": wall, "peak_mb": peak, **extra}), flush=True)


def measure(case: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", case],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _fmt(values: list[float], unit: str, digits: int = 2) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f}{unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--measure", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child or args.measure:
        _env(os.environ["VOBIZ_BENCH_ENDPOINT"])
        if args.child:
            child(args.child)
        else:
            _measure(args.measure)
        return 0

    # A SIGTERM still stops the S3 server (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # moto's server in its own process, as S3 would be: in-process it would share this process's GIL.
    servers = ExitStack()
    endpoint = servers.enter_context(moto_s3_server(own_process=True)).endpoint_url
    try:
        os.environ["VOBIZ_BENCH_ENDPOINT"] = endpoint
        _env(endpoint)
        seed(args.rows)
        results: dict[str, list[dict]] = {c: [] for c in CASES}
        for run in range(args.runs):
            for case in CASES:  # interleaved, so drift on a shared machine hits every case alike
                r = measure(case)
                results[case].append(r)
                print(
                    f"run {run + 1}/{args.runs} {case:22} {r['seconds']:6.2f}s section, "
                    f"{r['section_cpu']:6.2f}s section CPU, {r['wall']:6.2f}s process, "
                    f"{r['peak_mb']:7.0f} MB peak RSS",
                    flush=True,
                )
        print_results(results, args.rows, args.runs)
    finally:
        servers.close()
    return 0


def print_results(results: dict[str, list[dict]], rows: int, runs: int) -> None:
    """The runs' table, and validate's ratios to reading the same columns against the targets."""
    print()
    print(f"{rows:,}-call day on a local moto S3 server, {runs} fresh-process runs each")
    print("| case | section s | section CPU s | process s | peak RSS MB |\n|---|---|---|---|---|")
    for case in CASES:
        rs = results[case]
        print(
            f"| {case} | {_fmt([r['seconds'] for r in rs], '')} | {_fmt([r['section_cpu'] for r in rs], '')} "
            f"| {_fmt([r['wall'] for r in rs], '')} | {_fmt([r['peak_mb'] for r in rs], '', 0)} |"
        )
    v = statistics.median(r["seconds"] for r in results["validate"])
    ref = statistics.median(r["seconds"] for r in results["read (reference)"])
    vc = statistics.median(r["section_cpu"] for r in results["validate"])
    rc = statistics.median(r["section_cpu"] for r in results["read (reference)"])
    vm = statistics.median(r["peak_mb"] for r in results["validate"])
    rm = statistics.median(r["peak_mb"] for r in results["read (reference)"])
    first = results["validate"][0]
    print()
    print(f"load average during the runs: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs")
    print(
        f"validate: {first['expectations']} expectations, status {first['status']}; "
        f"ratio to reading the same columns: {v / ref:.1f}x time, {vc / rc:.1f}x CPU, {vm / rm:.1f}x peak RSS"
    )
    print(
        f"targets: under 15 s -> {'met' if v < 15 else 'MISSED'}; under 2 GB -> {'met' if vm < 2048 else 'MISSED'}"
    )


if __name__ == "__main__":
    sys.exit(main())
