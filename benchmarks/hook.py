"""VobizHook throughput against the simulator over loopback: sequential paging (the reference) vs concurrent
paging vs the streamed export, with a simulated network round trip per request.

    PYTHONPATH=. python benchmarks/hook.py [--calls 4000] [--rtt-ms 20]

Prints records/s of each method and its ratio to sequential paging measured in the same run, and the
client's heap peak during the export (it streams to disk, so the peak stays far below the CSV's size).
The simulator runs as a separate process (python -m airflow_provider_vobiz.simulator).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_provider_vobiz.hooks.vobiz import VobizHook  # noqa: E402
from tests.support.servers import free_port, wait_for_http  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000, help="calls on the benchmarked day")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="simulated latency added to each request")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # progress lines would dominate the output

    token, day = "bench-token-000001", date(2026, 3, 1)
    server, base = start_simulator(token, day, args.calls)
    try:
        if args.rtt_ms:
            fault = {"kind": "slow", "delay": args.rtt_ms / 1000, "times": None, "endpoint": "*"}
            httpx.post(f"{base}/_sim/faults", json=fault).raise_for_status()
        os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"] = json.dumps(
            {"conn_type": "vobiz", "host": base, "login": "MA_DEMO0001", "password": token}
        )
        results, export, peak = measure(day)
    finally:
        server.terminate()
        server.wait(timeout=10)

    ref_n, ref_s = results["paging x1"]
    print(f"{args.calls} calls, {args.rtt_ms:g} ms added per request, pages of 100")
    for name, (n, secs) in results.items():
        rate = n / secs
        print(
            f"  {name:<11} {n:>7} records {secs:7.2f} s {rate:10.0f} rec/s"
            f"   x{rate / (ref_n / ref_s):.2f} vs sequential"
        )
    print(f"  export: {export.bytes / 2**20:.1f} MiB CSV, client heap peak {peak / 2**20:.2f} MiB (streamed)")
    print(json.dumps({k: {"records": n, "seconds": round(s, 3)} for k, (n, s) in results.items()}))


def start_simulator(token: str, day: date, calls: int) -> tuple[subprocess.Popen, str]:
    """The simulator in its own process, so the heap figures are the client's alone; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_vobiz.simulator", "--port", str(port), "--auth-token", token,
         "--start-date", day.isoformat(), "--days", "1", "--calls-per-day", str(calls),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_http(f"{base}/_sim/health", server, timeout=60)
    except (ChildProcessError, TimeoutError):
        server.kill()
        raise SystemExit("the simulator did not start") from None
    return server, base


def measure(day: date) -> tuple[dict[str, tuple[int, float]], Any, int]:
    """Records and seconds of the day paged at 1, 4 and 8 pages in flight and exported; the export's
    result and the client's heap peak during it."""
    results = {}
    for concurrency in (1, 4, 8):
        with VobizHook(page_concurrency=concurrency) as hook:
            t0 = time.perf_counter()
            n = sum(1 for _ in hook.iter_records(start_date=day, end_date=day))
            results[f"paging x{concurrency}"] = (n, time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp, VobizHook() as hook:
        tracemalloc.start()
        t0 = time.perf_counter()
        export = hook.export_to(os.path.join(tmp, "day.csv"), start_date=day, end_date=day)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results["export"] = (export.rows, elapsed)
    return results, export, peak


if __name__ == "__main__":
    main()
