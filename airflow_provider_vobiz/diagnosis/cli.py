"""Diagnose one call's hangup: ``python -m airflow_provider_vobiz.diagnose``.

    python -m airflow_provider_vobiz.diagnose CALL_ID              # fetch the CDR (hook's single-CDR endpoint)
    python -m airflow_provider_vobiz.diagnose - < cdr.json         # a CDR's JSON on stdin
    python -m airflow_provider_vobiz.diagnose --cause USER_BUSY [--code 4010] [--reason "..."]
    ... --json                                                     # machine-readable output

Deterministic rules (:mod:`~airflow_provider_vobiz.diagnosis.rules`), no AI service. Fetching follows the
same policy as the UI page (:mod:`~airflow_provider_vobiz.diagnosis.fetch`) through the Airflow connection
``--conn-id`` (default ``vobiz_default``: host = base URL, login = Auth ID, password = Auth Token), e.g. from
``AIRFLOW_CONN_VOBIZ_DEFAULT``. The printed diagnosis never contains the token; phone numbers are not printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from airflow_provider_vobiz.diagnosis.fetch import DiagnosisError, check_call_id, fetch_cdr
from airflow_provider_vobiz.diagnosis.rules import Diagnosis, diagnose, diagnosis_json

PROG = "python -m airflow_provider_vobiz.diagnose"


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


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
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
    return ap


def _print(result: Diagnosis, call: str | None, as_json: bool) -> None:
    if as_json:
        out = json.loads(diagnosis_json(result))
        out["call_id"] = call
        print(json.dumps(out, indent=2, sort_keys=True))
        return
    if call:
        print(f"Call: {call}")
    print(result.as_text())


def main(argv: list[str] | None = None) -> int:
    """Run the command; 0 on a diagnosis, 2 when the call could not be fetched."""
    ap = _parser()
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
            cdr = fetch_cdr(check_call_id(args.call_id), args.conn_id)
        except DiagnosisError as err:  # its message names no token and no raw number
            print(f"could not fetch call {args.call_id}: {err}", file=sys.stderr)
            return 2
        result, call = diagnose(cdr), cdr.get("uuid", args.call_id)
    else:
        ap.error("give a call id, '-' (CDR JSON on stdin) or --cause")
    _print(result, call, args.json)
    return 0
