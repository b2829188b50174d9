"""Ingest benchmark: a simulator-served day of N calls into the lake on a local S3 server.

Every measured run is a fresh process running the operator's own code path
(``VobizCdrToS3Operator.execute``: HTTP from the simulator, normalise, window, dedupe, sort, Parquet, publish
to S3). The reference, measured in the same run on the same machine, is pyarrow's own ``read_csv`` (explicit
types) + ``write_table`` (zstd) of the same exported CSV, locally, with no HTTP and no S3.

    python benchmarks/ingest.py                       # 1M calls, export path, 3 runs each
    python benchmarks/ingest.py --calls 200000 --runs 5 --list-calls 200000
    python benchmarks/ingest.py --scale-calls 4000000 # also peak RSS at 4M calls (growth from N)
    python benchmarks/ingest.py --calls 200000 --multiline-records 1000  # a quoted export (newlines in values)

Goals: ratio <= 2 on the export path (HTTP included; next: <= 1.5), peak RSS < 1 GB at 1M calls and growing
less than 20% from 1M to 4M calls. Timings on a shared 2-core box are noisy; the ratio to a reference taken
in the same run, and peak RSS, are the figures to compare.
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
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "MA_BENCH0001"
TOKEN = "bench-token-0001"
DAY = dt.date(2026, 3, 2)


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: the latter keeps the forked parent's size over exec."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- children (fresh processes) -----------------------------------------------------------------------------
def child_reference(csv_path: str, out_dir: str) -> dict:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from airflow_provider_vobiz.cdr.schema import FIELDS

    names = pacsv.open_csv(csv_path).schema.names
    types = {f.name: f.type for f in FIELDS}
    with open(csv_path, "rb") as fh:  # a quoted export may hold newlines in values: pyarrow must be told
        quoted = b'"' in fh.read()
    t0 = time.perf_counter()
    conv = pacsv.ConvertOptions(
        column_types={n: types.get(n, "string") for n in names}, strings_can_be_null=True
    )
    parse = pacsv.ParseOptions(newlines_in_values=quoted)
    table = pacsv.read_csv(csv_path, parse_options=parse, convert_options=conv)
    pq.write_table(table, os.path.join(out_dir, "reference.parquet"), compression="zstd")
    return {"seconds": time.perf_counter() - t0, "rows": table.num_rows, "peak_rss_mb": _peak_rss_mb()}


def child_ingest(method: str, lake_uri: str) -> dict:
    from airflow_provider_vobiz.transfers.vobiz_to_s3 import VobizCdrToS3Operator

    class _TI:
        def xcom_push(self, key: str, value: object) -> None:
            pass

    op = VobizCdrToS3Operator(
        task_id="bench", lake_uri=lake_uri, call_date=DAY.isoformat(), method=method, account_id=ACCOUNT
    )
    t0 = time.perf_counter()
    summary = op.execute({"ti": _TI()})
    return {
        "seconds": time.perf_counter() - t0,
        "rows": summary["row_count"],
        "peak_rss_mb": _peak_rss_mb(),
        "changed": summary["changed"],
    }


def _run_child(args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True, check=False
    )
    if os.environ.get("VOBIZ_BENCH_SHOW_LOG"):
        for line in (proc.stdout + proc.stderr).splitlines():
            if "airflow_provider_vobiz" in line:
                sys.stderr.write(line[:220] + "\n")
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"child {args[0]} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the parent: servers, runs, report ----------------------------------------------------------------------
class Bench:
    def __init__(self, workdir: str) -> None:
        sys.path.insert(0, str(REPO))
        from tests.support.servers import moto_s3_server

        self.workdir = workdir
        self._servers = ExitStack()
        self.s3 = self._servers.enter_context(moto_s3_server())
        self.s3.client().create_bucket(Bucket="bench-lake")
        self.lake_uri = "s3://bench-lake/lake"
        self.sims: list = []
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "AIRFLOW_HOME": os.path.join(workdir, "airflow-home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_AWS_DEFAULT": self.s3.conn_json(),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "TMPDIR": workdir,
        }

    def simulator(self, calls: int, multiline_records: int = 0):
        from airflow_provider_vobiz.simulator import SimulatorConfig, SimulatorServer

        # One day of calls; the padded query (day -1 .. day +1) finds only that day's.
        cache_mb = max(512, calls // 1000 * 2)
        sim = SimulatorServer(
            SimulatorConfig(
                auth_id=ACCOUNT,
                auth_token=TOKEN,
                seed=11,
                start_date=DAY,
                days=1,
                calls_per_day=calls,
                cache_mb=cache_mb,
                multiline_records=multiline_records,
            )
        ).start()
        self.sims.append(sim)
        self.env["AIRFLOW_CONN_VOBIZ_DEFAULT"] = sim.conn_json()
        return sim

    def export_csv(self, calls: int) -> tuple[str, float]:
        """Pre-render the day in the simulator and keep its export for the reference."""
        os.environ["AIRFLOW_CONN_VOBIZ_DEFAULT"] = self.env["AIRFLOW_CONN_VOBIZ_DEFAULT"]
        from airflow_provider_vobiz.hooks.vobiz import VobizHook

        path = os.path.join(self.workdir, f"export-{calls}.csv")
        t0 = time.perf_counter()
        first, last = DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=1)
        with VobizHook("vobiz_default") as hook:
            result = hook.export_to(path, start_date=first.isoformat(), end_date=last.isoformat())
        return path, time.perf_counter() - t0 if result.rows else 0.0

    def clear_lake(self) -> None:
        client = self.s3.client()
        keys = [o["Key"] for o in client.list_objects_v2(Bucket="bench-lake").get("Contents", [])]
        for i in range(0, len(keys), 1000):
            client.delete_objects(
                Bucket="bench-lake", Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]}
            )

    def ingest(self, method: str) -> dict:
        self.clear_lake()  # every run publishes (an unchanged day would skip the upload)
        return _run_child(["ingest", method, self.lake_uri], self.env)

    def reference(self, csv_path: str) -> dict:
        return _run_child(["reference", csv_path, self.workdir], self.env)

    def close(self) -> None:
        for sim in self.sims:
            sim.stop()
        self._servers.close()


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _line(name: str, runs: list[dict], ref_s: float | None) -> str:
    secs, rows, rss = _median(runs, "seconds"), runs[0]["rows"], max(r["peak_rss_mb"] for r in runs)
    ratio = f"{secs / ref_s:5.2f}" if ref_s else "    -"
    spread = f"{min(r['seconds'] for r in runs):.2f}-{max(r['seconds'] for r in runs):.2f}"
    return (
        f"| {name:<44} | {len(runs)} | {secs:7.2f} ({spread}) | {rows / secs:>9,.0f} | {rss:8.0f} | {ratio} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1_000_000, help="calls in the day (export path)")
    ap.add_argument("--runs", type=int, default=3, help="fresh-process runs per case (median reported)")
    ap.add_argument("--list-calls", type=int, default=200_000, help="calls for the list-API path (0: skip)")
    ap.add_argument("--list-runs", type=int, default=1)
    ap.add_argument("--scale-calls", type=int, default=0, help="also measure peak RSS at this many calls")
    ap.add_argument(
        "--multiline-records",
        type=int,
        default=0,
        help="records of the export day holding CR, LF, quotes and commas (a quoted CSV; 0: unquoted)",
    )
    ap.add_argument("--show-log", action="store_true", help="print the pipeline's own log lines")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.show_log:
        os.environ["VOBIZ_BENCH_SHOW_LOG"] = "1"
    if args.child:
        kind, *rest = args.child
        out = child_reference(*rest) if kind == "reference" else child_ingest(*rest)
        print(json.dumps(out))
        return

    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="vobiz-bench-") as workdir:
        bench = Bench(workdir)
        try:
            report(bench, args)
        finally:
            bench.close()


def report(bench: Bench, args: argparse.Namespace) -> None:
    print(f"Ingest benchmark: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, day {DAY}")
    print("| case | runs | median s (min-max) | rows/s | peak RSS MB | ratio to reference |")
    print("|---|---|---|---|---|---|")
    rows: dict[str, list[dict]] = {}

    bench.simulator(args.calls, args.multiline_records)
    csv_path, render_s = bench.export_csv(args.calls)
    size_mb = os.path.getsize(csv_path) / 1e6
    print(f"<!-- simulator pre-rendered {args.calls:,} calls ({size_mb:,.0f} MB CSV) in {render_s:.1f}s -->")
    ref: list[dict] = []
    ing: list[dict] = []
    for _ in range(args.runs):  # interleaved, so load on a shared box hits both alike
        ref.append(bench.reference(csv_path))
        ing.append(bench.ingest("export"))
    ref_s = _median(ref, "seconds")
    print(_line(f"reference: pyarrow read_csv + write_table, {args.calls:,}", ref, ref_s))
    quoted = f", {args.multiline_records:,} multiline" if args.multiline_records else ""
    print(_line(f"export: operator, HTTP + S3, {args.calls:,}{quoted}", ing, ref_s))
    rows["export"] = ing
    os.remove(csv_path)

    if args.scale_calls:
        bench.simulator(args.scale_calls)
        path, _ = bench.export_csv(args.scale_calls)
        os.remove(path)
        big = [bench.ingest("export")]
        print(_line(f"export: operator, HTTP + S3, {args.scale_calls:,}", big, None))
        growth = max(r["peak_rss_mb"] for r in big) / max(r["peak_rss_mb"] for r in ing) - 1
        print(
            f"<!-- peak RSS growth {args.calls:,} -> {args.scale_calls:,} calls: {growth:+.1%} (goal < +20%) -->"
        )

    if args.list_calls:
        bench.simulator(args.list_calls)
        path, _ = bench.export_csv(args.list_calls)
        lref = [bench.reference(path)]
        os.remove(path)
        lst = [bench.ingest("list") for _ in range(args.list_runs)]
        lref_s = _median(lref, "seconds")
        print(_line(f"reference: pyarrow read_csv + write_table, {args.list_calls:,}", lref, lref_s))
        print(_line(f"list: operator, paged JSON + S3, {args.list_calls:,}", lst, lref_s))

    ratio = _median(ing, "seconds") / ref_s
    rss = max(r["peak_rss_mb"] for r in ing)
    print(
        f"\nexport path: ratio {ratio:.2f} (goal <= 2; next <= 1.5), peak RSS {rss:.0f} MB at {args.calls:,} calls "
        f"(goal < 1024 MB)"
    )


if __name__ == "__main__":
    main()
