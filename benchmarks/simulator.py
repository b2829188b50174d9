"""How fast the simulator serves a 1M-call day: exported records/s and list pages/s (per_page=100).

The simulator must not be what limits the ingest benchmark. Figures are measured over real HTTP on loopback
(httpx client in this process, uvicorn in a thread) and printed with a ratio to references measured in the
same run on the same machine:

* export: pyarrow writing the same CSV (the same rows) to local disk;
* list pages: the same HTTP stack (uvicorn, Starlette, httpx) serving a fixed body of the same size.

Usage: ``python benchmarks/simulator.py [--calls 1000000] [--pages 1500] [--cache-mb 256]``
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import psutil  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from airflow_provider_vobiz.simulator import SimulatorConfig, SimulatorServer  # noqa: E402


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def cpu_s() -> float:
    """CPU seconds used by this process (server and client threads): a figure other load does not skew."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


def export(srv: SimulatorServer, sink: io.BufferedWriter | None = None) -> tuple[int, int, float]:
    """Stream the whole day's export; return (records, bytes, seconds)."""
    t = time.perf_counter()
    c0 = cpu_s()
    lines = size = 0
    params = {"start_date": "2026-03-01", "end_date": "2026-03-01"}
    with (
        httpx.Client(headers=srv.headers, timeout=600) as c,
        c.stream("GET", srv.api_url + "/export", params=params) as r,
    ):
        r.raise_for_status()
        last = time.perf_counter()
        for chunk in r.iter_bytes(1 << 20):
            lines += chunk.count(b"\n")
            size += len(chunk)
            if sink is not None:
                sink.write(chunk)
            if time.perf_counter() - last > 2:
                print(
                    f"    ... {lines - 1:,} records, {(lines - 1) / (time.perf_counter() - t):,.0f}/s",
                    flush=True,
                )
                last = time.perf_counter()
    secs = time.perf_counter() - t
    print(f"    {lines - 1:,} records in {secs:.2f} s wall, {cpu_s() - c0:.2f} CPU s "
          f"({(lines - 1) / max(cpu_s() - c0, 1e-9):,.0f} records per CPU second, client included)")  # fmt: skip
    return lines - 1, size, secs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000, help="calls in the day (default: 1,000,000)")
    ap.add_argument("--pages", type=int, default=1500, help="list pages to fetch (default: 1500)")
    ap.add_argument("--cache-mb", type=int, default=256, help="the simulator's cache budget (default: 256)")
    args = ap.parse_args()

    cfg = SimulatorConfig(
        start_date=date(2026, 3, 1), days=1, calls_per_day=args.calls, cache_mb=args.cache_mb
    )
    print(
        f"simulator benchmark: one day of {args.calls:,} calls, cache {cfg.cache_mb} MB, {os.cpu_count()} CPUs"
    )
    base_rss = rss_mb()
    with SimulatorServer(cfg) as srv, tempfile.TemporaryDirectory() as tmp:
        size = export_case(srv, Path(tmp), base_rss)
        first, rate, pages = list_case(srv, min(args.pages, max(1, args.calls // 100)))
        ref_pages = fixed_body_pages(first, pages)
        print(
            f"reference: the same HTTP stack serving a fixed body of the same size: {ref_pages:,.0f} pages/s"
        )
        print(f"ratio list/reference: {rate / ref_pages:.2f}")
        print(f"RSS at the end: {rss_mb() - base_rss:,.0f} MiB above start (CSV was {size / 2**20:,.0f} MiB)")
    return 0


def export_case(srv: SimulatorServer, tmp: Path, base_rss: float) -> int:
    """The day's export, cold then again, against pyarrow writing the same CSV locally; its size."""
    csv_path = tmp / "export.csv"
    with open(csv_path, "wb") as sink:
        n, size, secs = export(srv, sink)
    peak_after_cold = rss_mb()
    print(f"export, cold (generate + render + stream): {n:,} records, {size / 2**20:,.0f} MiB in {secs:.2f} s "
          f"= {n / secs:,.0f} records/s; RSS {peak_after_cold - base_rss:,.0f} MiB above start")  # fmt: skip
    n2, _, secs2 = export(srv)
    print(
        f"export, second request (day core cached, blocks re-rendered past the cache): {n2 / secs2:,.0f} records/s"
    )
    table = pacsv.read_csv(csv_path)
    t = time.perf_counter()
    pacsv.write_csv(table, tmp / "reference.csv")
    ref_rate = table.num_rows / (time.perf_counter() - t)
    print(
        f"reference: pyarrow write_csv of the same {table.num_rows:,} rows to local disk: {ref_rate:,.0f} rows/s"
    )
    print(f"ratio export/reference: cold {n / secs / ref_rate:.2f}, second {n2 / secs2 / ref_rate:.2f}")
    return size


def list_case(srv: SimulatorServer, pages: int) -> tuple[httpx.Response, float, int]:
    """Page 1 of the day's listing, then ``pages`` more; page 1's response, pages per second, pages."""
    with httpx.Client(headers=srv.headers, timeout=60) as c:
        params = {"start_date": "2026-03-01", "end_date": "2026-03-01", "per_page": 100, "page": 1}
        t = time.perf_counter()
        first = c.get(srv.api_url, params=params)
        first.raise_for_status()
        print(f"list page 1 (builds the query's selection): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        c0 = cpu_s()
        for p in range(2, pages + 2):
            params["page"] = p
            r = c.get(srv.api_url, params=params)
            r.raise_for_status()
        secs = time.perf_counter() - t
        cpu = cpu_s() - c0
    rate = pages / secs
    print(f"list pages (per_page=100, keep-alive, sequential): {pages:,} pages in {secs:.2f} s = {rate:,.0f} pages/s "
          f"({rate * 100:,.0f} records/s); {pages / cpu:,.0f} pages per CPU second, client included")  # fmt: skip
    return first, rate, pages


def fixed_body_pages(first: httpx.Response, pages: int) -> float:
    """Reference: the same HTTP stack (uvicorn + Starlette + httpx, same process) returning a fixed body of
    the same size: the floor any JSON API would sit on here. Pages per second."""
    fixed = first.content
    floor_app = Starlette(
        routes=[Route("/page", lambda request: Response(fixed, media_type="application/json"))]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    floor = uvicorn.Server(uvicorn.Config(floor_app, log_level="warning", lifespan="off"))
    th = threading.Thread(target=floor.run, kwargs={"sockets": [sock]}, daemon=True)
    th.start()
    while not floor.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/page"
    with httpx.Client(timeout=60) as c:
        c.get(url)
        t = time.perf_counter()
        for _ in range(pages):
            c.get(url).raise_for_status()
        ref_pages = pages / (time.perf_counter() - t)
    floor.should_exit = True
    th.join()
    return ref_pages


if __name__ == "__main__":
    sys.exit(main())
