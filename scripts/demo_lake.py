"""The demo's lake (``make demo``): where it is, and what the demo shows of it once the DAGs have run.

The per-day table, the mirror of the lake in ``demo-output/`` with an index of the reports, the mails the
local SMTP server received, and the audit check of every mirrored report against the mirrored lake.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

ACCOUNT = "MA_DEMO0001"
BUCKET = "vobiz-lake"
LAKE_URI = f"s3://{BUCKET}/lake"


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def say_outputs(out: Path, copied: int) -> None:
    """Where the mirrored lake, the reports and the Athena DDL are, and how to query the partitions."""
    from airflow_provider_vobiz.lake.ddl import ddl_script

    say(f"The lake ({LAKE_URI} on the S3 server) is mirrored to {out / 'lake'} ({copied} objects):")
    say(f"  reports:    {out / 'index.html'} (HTML, PDF, CSV, JSON per day, month and as-of date)")
    say(f"  partitions: {out / 'lake' / 'cdr'} (Hive-style Parquet, one _manifest.json per day)")
    say(f"  quality:    {out / 'lake' / 'quality'} (validation.json and validation.html per day)")
    say(f"  tokenised:  {out / 'lake' / 'cdr_tokenised'} (phone numbers as keyed HMAC tokens)")
    (out / "vobiz_athena.sql").write_text(ddl_script("athena", LAKE_URI))
    say(f"  tables:     {out / 'vobiz_athena.sql'} (Athena DDL; Spark, Trino, DuckDB: docs/lake.md)")
    say(
        '  query it:   .venv/bin/python -c "import duckdb; print(duckdb.sql(\\"SELECT call_date, count(*) '
        f"FROM read_parquet('{out}/lake/cdr/**/*.parquet', hive_partitioning=true) GROUP BY ALL "
        'ORDER BY 1\\"))"'
    )


def say_mail(mail, home: Path, out: Path) -> None:
    if (home / "mail").is_dir():
        shutil.copytree(home / "mail", out / "mail")
    say(
        f"{len(mail.received)} mail(s) sent to the local SMTP server on port {mail.port}, copies in {out / 'mail'}:"
    )
    for n, msg in enumerate(mail.received, 1):
        say(f"  {n:03d}.eml  to {', '.join(msg.rcpt_tos)}: {msg.subject}")


def say_retention(as_of: dt.date) -> None:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

    layout = LakeLayout.from_uri(LAKE_URI)
    report = LakeStorage("aws_default", layout.bucket).get_json(
        layout.retention_report_key(ACCOUNT, as_of, "json")
    )
    totals = report["totals"]
    locked = report["enforcement"]["object_lock"]
    say(
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
    from tests.support.mirror import mirror_lake, relative_key

    layout = LakeLayout.from_uri(LAKE_URI)
    storage = LakeStorage("aws_default", layout.bucket)
    shutil.rmtree(out, ignore_errors=True)
    copied = mirror_lake(storage, layout, out / "lake")
    reports = [f"lake/{relative_key(layout, key)}" for key in copied if key.startswith(layout.reports_root)]
    items = "\n".join(f'<li><a href="{rel}">{rel}</a></li>' for rel in sorted(reports))
    (out / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Vobiz demo reports</title>"
        f"<h1>Vobiz demo reports</h1><ul>{items}</ul>"
    )
    return len(copied)


def verify_mirrored_reports(out: Path) -> None:
    """Check every current report in the mirror against the mirrored lake, as an auditor would, and say how."""
    from airflow_provider_vobiz.verify import MATCH, open_report, verify_report

    reports = sorted(p for p in (out / "lake" / "reports").rglob("*.json") if "_superseded" not in p.parts)
    checked = []
    for path in reports:
        report, _, lake = open_report(str(path))
        checked += verify_report(report, lake)
    bad = [c for c in checked if c.status != MATCH]
    say(
        f"Audit trail: {len(checked) - len(bad)} of {len(checked)} inputs cited by {len(reports)} reports "
        f"match the lake{'' if not bad else ' (NOT: ' + ', '.join(f'{c.call_date} {c.status}' for c in bad) + ')'}."
    )
    if reports:
        month = next(
            (p for p in reports if p.parent.name.startswith("period=") and len(p.parent.name) == 14),
            reports[0],
        )
        say(f"  check one:  .venv/bin/python -m airflow_provider_vobiz.verify {month}")
    if bad:
        raise SystemExit("a report's inputs do not match the lake it was made from")
