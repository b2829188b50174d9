"""`make bench`: every benchmark in turn, each printing its figures and its ratio to a same-run reference.

Full sizes by default (a 1M-call day, a 30M-call month: tens of minutes); ``--quick`` runs each at a size
that finishes in a few minutes altogether, for a smoke check of the benchmarks themselves.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script -> (full-size arguments, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "simulator.py": ([], ["--calls", "100000", "--pages", "200"]),
    "hook.py": ([], ["--calls", "5000"]),
    "ingest.py": (
        ["--scale-calls", "4000000"],
        ["--calls", "100000", "--runs", "1", "--list-calls", "20000"],
    ),
    "quality.py": ([], ["--rows", "100000", "--runs", "1"]),
    "retention.py": ([], []),
    "report.py": ([], ["--days", "3", "--rows", "100000", "--runs", "1"]),
    # Needs PostgreSQL and Redis on 127.0.0.1, as the CeleryExecutor tests do.
    "backfill.py": ([], ["--days", "4", "--calls", "500"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: minutes, not tens of minutes")
    parser.add_argument("only", nargs="*", help="benchmark scripts to run (default: all)")
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    failed = []
    for script, (full, quick) in BENCHMARKS.items():
        if args.only and script not in args.only and script.removesuffix(".py") not in args.only:
            continue
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"\n=== {script} {' '.join(cmd[2:])}", flush=True)
        started = time.monotonic()
        rc = subprocess.run(cmd, env=env).returncode
        print(f"=== {script}: exit {rc} after {time.monotonic() - started:.0f}s", flush=True)
        if rc:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
