"""``python -m airflow_provider_vobiz.simulator``: serve the simulated Vobiz CDR API from the command line."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime, timedelta
from typing import Any

from .app import ENDPOINTS, Fault, SimState, create_app
from .config import MALFORMED_KINDS, TIMEZONES, SimulatorConfig

EPILOG = """\
faults (--fault, repeatable): KIND[:key=value...]
  KIND is an HTTP status (429, 500, 502, 503, ...), "slow", "drop", "truncate" or "undercount"; keys:
    times=N          apply to the next N matching requests (default 1; "inf" = until cleared)
    endpoint=E       list|search|export|single|recent|* (default *)
    page=N           only requests for this page (list/search)
    retry_after=S    with a status: send Retry-After: S
    delay=S          with slow: wait S seconds before answering
    after_bytes=N    with drop: close the connection after N bytes of the body
    records=N        with truncate: list/search page short by its last N records (pagination unchanged);
                     with undercount: pagination.total N lower, pages and has_next agreeing (summary honest)
  e.g. --fault 429:times=2:retry_after=1 --fault drop:endpoint=export:after_bytes=5000

control API (loopback clients only): POST/DELETE/GET /_sim/faults, POST/GET /_sim/now, GET /_sim/requests
"""


def parse_fault(spec: str) -> dict[str, Any]:
    """``429:times=2:retry_after=1`` -> keyword arguments of :class:`Fault`."""
    head, *rest = spec.split(":")
    kw: dict[str, Any] = {}
    if head.isdigit():
        kw.update(kind="status", status=int(head))
    elif head in ("slow", "drop", "truncate", "undercount", "status"):
        kw["kind"] = head
    else:
        raise argparse.ArgumentTypeError(
            f"fault kind must be an HTTP status, slow, drop, truncate or undercount, got {head!r}"
        )
    for item in rest:
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"fault option {item!r} must be key=value")
        if key in ("times", "page", "status", "after_bytes", "records"):
            kw[key] = None if (key == "times" and value in ("inf", "none")) else int(value)
        elif key in ("retry_after", "delay"):
            kw[key] = float(value)
        elif key == "endpoint":
            kw[key] = value
        else:
            raise argparse.ArgumentTypeError(f"unknown fault option {key!r}")
    try:
        Fault(**kw)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return kw


def _date(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {s!r}") from None


def _now(s: str) -> datetime:
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 UTC timestamp, got {s!r}") from None
    if d.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a timezone, e.g. 2026-03-05T12:00:00Z")
    return d


def build_parser() -> argparse.ArgumentParser:
    d = SimulatorConfig()
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_vobiz.simulator",
        description="Serve a seeded, deterministic simulation of the Vobiz CDR API "
        "(/api/v1/Account/{auth_id}/cdr, /search, /recent, /export, /{call_id}).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a = p.add_argument
    a("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    a("--port", type=int, default=8765, help="port to listen on (default: %(default)s)")
    a("--auth-id", default=d.auth_id, help="account id = X-Auth-ID (default: %(default)s)")
    a("--auth-token", default=d.auth_token, help="X-Auth-Token (default: %(default)s; set your own)")
    a("--seed", type=int, default=d.seed, help="random seed of the data (default: %(default)s)")
    a("--start-date", type=_date, default=d.start_date, help="first day of calls, IST (default: %(default)s)")
    a("--days", type=int, default=d.days, help="number of days of calls (default: %(default)s)")
    a("--calls-per-day", type=int, default=d.calls_per_day, help="calls per day (default: %(default)s)")
    a("--date-filter-timezone", choices=TIMEZONES, default=d.date_filter_timezone,
      help="timezone in which start_date/end_date are read (default: %(default)s)")  # fmt: skip
    a("--now", type=_now, default=None,
      help="simulated clock, ISO 8601 UTC (default: end of the last day + 1 day)")  # fmt: skip
    a("--late-fraction", type=float, default=0.0, help="share of calls whose CDR appears late (default: 0)")
    a("--late-delay-hours", type=float, default=6.0, help="how late those CDRs appear (default: 6)")
    a("--updated-fraction", type=float, default=0.0,
      help="share of calls later updated (new updated_at, changed billsec/cost/hangup) (default: 0)")  # fmt: skip
    a("--duplicate-across-pages", action="store_true",
      help="list/search serve one record on two consecutive pages (pagination drift)")  # fmt: skip
    a("--extra-field", default=None, help="add this undocumented field to every record, e.g. recording_url")
    a("--malformed-records", type=int, default=0,
      help="per day, records served malformed, taking --malformed-kinds in turn")  # fmt: skip
    a("--malformed-kinds", default=",".join(d.malformed_kinds),
      help=f"comma-separated, of {', '.join(MALFORMED_KINDS)} (default: %(default)s)")  # fmt: skip
    a("--malformed-field-bytes", type=int, default=d.malformed_field_bytes,
      help="size of the oversized kind's field (default: %(default)s)")  # fmt: skip
    a("--hostile-records", type=int, default=0,
      help="per day, records whose free-text fields hold long, markup, formula-like and number-bearing values")  # fmt: skip
    a("--multiline-records", type=int, default=0,
      help="per day, records whose text holds CR, LF, quotes and commas (quoted in the CSV)")  # fmt: skip
    a("--api-retention-days", type=int, default=None,
      help="reject start_date older than now minus this many days with a 400 (default: no limit)")  # fmt: skip
    a("--cache-mb", type=int, default=d.cache_mb, help="memory for rendered records (default: %(default)s)")
    a("--fault", action="append", type=parse_fault, default=[], metavar="SPEC",
      help="inject a fault at start (repeatable; see below)")  # fmt: skip
    a("--log-level", default="info", choices=["debug", "info", "warning", "error"],
      help="uvicorn log level (default: %(default)s)")  # fmt: skip
    return p


def config_from_args(ns: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        auth_id=ns.auth_id,
        auth_token=ns.auth_token,
        seed=ns.seed,
        start_date=ns.start_date,
        days=ns.days,
        calls_per_day=ns.calls_per_day,
        date_filter_timezone=ns.date_filter_timezone,
        now=ns.now,
        late_fraction=ns.late_fraction,
        late_delay=timedelta(hours=ns.late_delay_hours),
        updated_fraction=ns.updated_fraction,
        duplicate_across_pages=ns.duplicate_across_pages,
        extra_field=ns.extra_field,
        malformed_records=ns.malformed_records,
        hostile_records=ns.hostile_records,
        multiline_records=ns.multiline_records,
        malformed_kinds=tuple(k.strip() for k in ns.malformed_kinds.split(",") if k.strip()),
        malformed_field_bytes=ns.malformed_field_bytes,
        api_retention_days=ns.api_retention_days,
        cache_mb=ns.cache_mb,
    )


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        cfg = config_from_args(ns)
    except ValueError as e:
        parser.error(str(e))
    state = SimState(cfg)
    for kw in ns.fault:
        state.add_fault(**kw)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger(__name__).info(
        "Vobiz simulator: http://%s:%d/api/v1/Account/%s/cdr (%d days x %d calls from %s, seed %d, "
        "date filters in %s, endpoints %s)",
        ns.host, ns.port, cfg.auth_id, cfg.days, cfg.calls_per_day, cfg.start_date, cfg.seed,
        cfg.date_filter_timezone, ", ".join(ENDPOINTS),
    )  # fmt: skip
    uvicorn.run(create_app(state=state), host=ns.host, port=ns.port, log_level=ns.log_level, lifespan="off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
