"""Diagnose one call's hangup: ``python -m airflow_provider_vobiz.diagnose``.

    python -m airflow_provider_vobiz.diagnose CALL_ID              # fetch the CDR (hook's single-CDR endpoint)
    python -m airflow_provider_vobiz.diagnose - < cdr.json         # a CDR's JSON on stdin
    python -m airflow_provider_vobiz.diagnose --cause USER_BUSY [--code 4010] [--reason "..."]
    ... --json                                                     # machine-readable output

Deterministic rules (``reports/diagnose.py``), no AI service. Fetching uses the Airflow connection
``--conn-id`` (default ``vobiz_default``: host = base URL, login = Auth ID, password = Auth Token), e.g. from
``AIRFLOW_CONN_VOBIZ_DEFAULT``. The printed diagnosis never contains the token; phone numbers are not printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from airflow_provider_vobiz.reports.diagnose import diagnose, diagnosis_json


def _read_stdin() -> dict[str, Any]:
    text = sys.stdin.read()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise SystemExit(f"stdin is not JSON: {err}") from None
    # Accept a bare CDR, or an API response whose data holds one CDR.
    if isinstance(obj, dict) and "hangup_cause" not in obj and "data" in obj:
        obj = obj["data"]
    if isinstance(obj, list):
        if len(obj) != 1:
            raise SystemExit(f"stdin holds {len(obj)} CDRs; give exactly one")
        obj = obj[0]
    if not isinstance(obj, dict):
        raise SystemExit("stdin must hold one CDR JSON object")
    return obj


def _fetch(call_id: str, conn_id: str) -> dict[str, Any]:
    from airflow_provider_vobiz.hooks.vobiz import VobizHook

    with VobizHook(vobiz_conn_id=conn_id) as hook:
        return hook.get_cdr(call_id)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m airflow_provider_vobiz.diagnose",
        description="Plain-English diagnosis of a call's hangup_cause (deterministic rules, no AI service).",
    )
    ap.add_argument(
        "call_id", nargs="?", help="the call's uuid (fetched from the API), or '-' for a CDR on stdin"
    )
    ap.add_argument("--cause", help="a bare hangup_cause, e.g. USER_BUSY (no CDR needed)")
    ap.add_argument("--code", help="optional hangup_cause_code with --cause")
    ap.add_argument("--reason", help="optional failure_reason with --cause")
    ap.add_argument("--conn-id", default="vobiz_default", help="the vobiz connection (default vobiz_default)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = ap.parse_args(argv)

    if args.cause:
        if args.call_id:
            ap.error("give either a call id / '-' or --cause, not both")
        result = diagnose(hangup_cause=args.cause, hangup_cause_code=args.code, failure_reason=args.reason)
        call = None
    elif args.call_id == "-":
        cdr = _read_stdin()
        result, call = diagnose(cdr), cdr.get("uuid")
    elif args.call_id:
        try:
            cdr = _fetch(args.call_id, args.conn_id)
        except Exception as err:  # the hook's errors name the endpoint and status, never the token
            print(f"could not fetch call {args.call_id}: {err}", file=sys.stderr)
            return 2
        result, call = diagnose(cdr), cdr.get("uuid", args.call_id)
    else:
        ap.error("give a call id, '-' (CDR JSON on stdin) or --cause")
    if args.json:
        out = json.loads(diagnosis_json(result))
        out["call_id"] = call
        print(json.dumps(out, indent=2, sort_keys=True))
    else:
        if call:
            print(f"Call: {call}")
        print(result.as_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
