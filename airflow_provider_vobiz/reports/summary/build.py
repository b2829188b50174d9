"""The summary document: the figures' rows arranged per day, per direction and per section, with the inputs
and quality verdicts an auditor needs (raw phone numbers inside; see :mod:`.document`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from airflow_provider_vobiz.diagnosis import rules as diag
from airflow_provider_vobiz.lake.manifest import QUALITY_STATUSES
from airflow_provider_vobiz.reports.render import REFERENCE_LABEL
from airflow_provider_vobiz.reports.summary.config import HANGUP_CLASS_NAMES, REPORT_NAME, SummaryConfig
from airflow_provider_vobiz.reports.summary.inputs import DayInput
from airflow_provider_vobiz.reports.summary.period import parse_period

#: Worst first: a day never validated ranks above one validated with warnings.
_QUALITY_RANK = {"passed": 0, "warning": 1, "pending": 2, "failed": 3}
_DIRECTIONS = ("all", "inbound", "outbound")
_ZERO_TRAFFIC = {
    "calls": 0,
    "answered": 0,
    "unanswered": 0,
    "billsec_sum": 0,
    "duration_sum": 0,
    "mou": 0.0,
    "false_answer_suspects": 0,
    "unanswered_u": 0,
    "unanswered_d": 0,
    "unanswered_x": 0,
    "unanswered_k": 0,
    "originator_cancel": 0,
    "dropped": 0,
    "cost": Decimal("0"),
    "total_cost": Decimal("0"),
    "streaming_cost": Decimal("0"),
}
_RATIOS = (
    "asr",
    "ner",
    "ner_excl_originator_cancel",
    "setup_success_proxy",
    "dropped_call_proxy",
    "acd_mean",
    "false_answer_share",
    "mos_mean",
    "mos_good_share",
    "mos_poor_share",
    "jitter_over_30ms_share",
    "packet_loss_over_1pct_share",
    "pdd_zero_share",
    "total_cost_per_answered_minute",
)
_QUANTILE_KEYS = {
    "acd": (("p50", "acd_median"), ("p90", "acd_p90")),
    "ring_time": (("p50", "ring_time_p50"), ("p95", "ring_time_p95")),
    "pdd_ms": (("p50", "pdd_ms_p50"), ("p95", "pdd_ms_p95")),
    "mos": (("p5", "mos_p5"),),
    "jitter": (("p95", "jitter_p95"),),
}


def _metrics(traffic: Mapping[str, Any] | None, quantiles: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    m: dict[str, Any] = dict(_ZERO_TRAFFIC)
    m.update(dict.fromkeys(_RATIOS))
    for keys in _QUANTILE_KEYS.values():
        m.update(dict.fromkeys(k for _, k in keys))
    if traffic:
        for k, v in traffic.items():
            if k in ("day", "direction"):
                continue
            m[k] = int(v) if isinstance(v, int) else v
    for measure, keys in _QUANTILE_KEYS.items():
        q = quantiles.get(measure)
        if q:
            for src, dst in keys:
                v = q[src]
                # Integer measures (seconds, milliseconds) stay integers.
                m[dst] = int(v) if v is not None and measure in ("acd", "ring_time", "pdd_ms") else v
    for k in ("cost", "total_cost", "streaming_cost"):
        m[k] = Decimal(m[k] if m[k] is not None else 0)
    return m


def _worst(statuses: Iterable[str]) -> str | None:
    ranked = [s for s in statuses if s]
    if not ranked:
        return None
    return max(ranked, key=lambda s: _QUALITY_RANK.get(s, len(_QUALITY_RANK)))


class _Scopes:
    """The metrics of each ``(day, direction)`` from the ``traffic`` and ``quantiles`` rows (``day`` is a
    call date or ``"period"``)."""

    def __init__(self, figures: Mapping[str, list[dict[str, Any]]]) -> None:
        self.quantiles: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for q in figures["quantiles"]:
            self.quantiles[(q["day"], q["direction"])][q["measure"]] = q
        self.traffic = {(t["day"], t["direction"]): t for t in figures["traffic"]}

    def __call__(self, day: str) -> dict[str, Any]:
        return {
            direction: _metrics(self.traffic.get((day, direction)), self.quantiles.get((day, direction), {}))
            for direction in _DIRECTIONS
        }


def _by_day(inputs: Sequence[DayInput], scope: _Scopes) -> list[dict[str, Any]]:
    by_day = []
    for d in inputs:
        entry: dict[str, Any] = {"call_date": d.call_date, "present": d.present}
        if d.present:
            s = scope(d.call_date)
            entry.update(s["all"])
            entry["by_direction"] = {k: s[k] for k in ("inbound", "outbound")}
        by_day.append(entry)
    return by_day


def _quality_days(inputs: Sequence[DayInput]) -> dict[str, dict[str, Any]]:
    """Each day's quality verdict and what its manifest says about rows, rejects and restatements."""
    quality_days = {}
    for d in inputs:
        if not d.present:
            quality_days[d.call_date] = {"status": "missing"}
            continue
        m = d.manifest
        status = d.quality.get("status") or "pending"
        if status not in QUALITY_STATUSES:
            status = "pending"
        quality_days[d.call_date] = {
            "status": status,
            "row_count": d.row_count,
            "rejects": int(m.rejects.get("count") or 0),
            "reconciliation": m.reconciliation or None,
            "restatements": len(m.history),
            "history": m.history,
            "extracted_at": m.extracted_at,
        }
    return quality_days


def _inputs(present: Sequence[DayInput]) -> list[dict[str, Any]]:
    """The partitions the report cites: their manifest and content hashes."""
    return [
        {
            "call_date": d.call_date,
            "manifest_sha256": d.manifest_sha256,
            "content_sha256": d.manifest.content_sha256,
            "row_count": d.row_count,
            "parts": len(d.part_paths),
        }
        for d in present
    ]


def _hours(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "day": r["day"],
            "direction": r["direction"],
            "local_hour": int(r["local_hour"]),
            "calls": int(r["calls"] or 0),
            "answered": int(r["answered"] or 0),
        }
        for r in rows
    ]


def build_summary(
    account_id: str,
    period: str,
    inputs: Sequence[DayInput],
    figures: Mapping[str, list[dict[str, Any]]],
    config: SummaryConfig,
    *,
    provider_version: str,
    generated_at: str,
    lake_uri: str = "",
    dag_run: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The summary document (raw phone numbers inside: tokenise with :func:`for_machines` before writing)."""
    kind, days = parse_period(period)
    present = [d for d in inputs if d.present]
    scope = _Scopes(figures)
    period_scope = scope("period")
    quality_days = _quality_days(inputs)
    worst = _worst(q["status"] for q in quality_days.values() if q["status"] != "missing")
    campaigns = _campaign_section(figures["campaigns"], config)
    return {
        "report": REPORT_NAME,
        "account_id": account_id,
        "period": period,
        "period_kind": kind,
        "timezone": config.timezone,
        "generated_at": generated_at,
        "provider_version": provider_version,
        "lake_uri": lake_uri,
        "days_expected": len(days),
        "days_present": len(present),
        "missing_days": [d.call_date for d in inputs if not d.present],
        "totals": dict(period_scope["all"]),
        "by_direction": {k: period_scope[k] for k in ("inbound", "outbound")},
        "by_day": _by_day(inputs, scope),
        "hangups": _hangup_section(figures["hangup"], config),
        "codec_mix": _codec_section(figures["codec"]),
        "hours": _hours(figures["hours"]),
        "calling_hours": campaigns["calling_hours"],
        "number_series": campaigns["number_series"],
        "ucc": _ucc_section(figures["ucc"], config),
        "cost": {"by_trunk_region": figures["cost"]},
        "quality": {"worst_status": worst or "missing", "days": quality_days},
        "references": {
            "label": REFERENCE_LABEL,
            "setup_success_proxy": config.setup_success_reference,
            "dropped_call_proxy": config.dropped_call_reference,
        },
        "config": config.as_dict(),
        "inputs": _inputs(present),
        "dag_run": dict(dag_run) if dag_run else None,
    }


def _hangup_section(rows: list[dict[str, Any]], config: SummaryConfig) -> dict[str, Any]:
    """Counts by cause, class and source, per day and for the period (all directions)."""
    by_cause: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_class: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    answered_causes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r["direction"] != "all":
            continue
        n = int(r["calls"])
        by_cause[r["day"]][r["cause"]] += n
        by_source[r["day"]][r["source"]] += n
        by_class[r["day"]][r["class"] if not r["answered"] else "answered"] += n
        if r["answered"]:
            answered_causes[r["day"]][r["cause"]] += n
    period = by_cause.get("period", {})
    total = sum(period.values())
    top = sorted(period.items(), key=lambda kv: (-kv[1], kv[0]))[: config.top_causes]
    diagnoses = []
    for cause, n in top:
        # A blank cause (legal API data) is diagnosed as the documented UNKNOWN, never a failed report.
        d = diag.diagnose(hangup_cause=cause if str(cause or "").strip() else "UNKNOWN")
        diagnoses.append(
            {
                "cause": cause,
                "calls": n,
                "share": n / total if total else None,
                "class": config.hangup_classes.get(cause, "K"),
                "meaning": d.meaning,
                "likely_root_cause": d.likely_root_cause,
                "next_checks": d.next_checks,
            }
        )

    def plain(x: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
        return {day: dict(sorted(v.items())) for day, v in sorted(x.items())}

    return {
        "by_cause": plain(by_cause),
        "by_class": plain(by_class),
        "by_source": plain(by_source),
        "answered_by_cause": plain(answered_causes),
        "top_causes": diagnoses,
        "classes": {k: HANGUP_CLASS_NAMES[k] for k in ("U", "D", "X", "K")},
    }


def _codec_section(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        if r["direction"] == "all":
            out[r["day"]][r["codec"]] = int(r["answered"])
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def _campaign_section(rows: list[dict[str, Any]], config: SummaryConfig) -> dict[str, Any]:
    hours, series = [], []
    for r in rows:
        campaign = r["campaign"] or None
        promotional = campaign is not None and config.campaigns_presumed_promotional
        hours.append(
            {
                "day": r["day"],
                "campaign_id": campaign,
                "presumed_promotional": promotional,
                "outbound_calls": int(r["outbound_calls"]),
                "outside_window_answered": int(r["outside_answered"] or 0),
                "outside_window_unanswered": int(r["outside_unanswered"] or 0),
            }
        )
        if campaign is not None:
            n, bad = int(r["outbound_calls"]), int(r["not_series"] or 0)
            series.append(
                {
                    "day": r["day"],
                    "campaign_id": campaign,
                    "calls": n,
                    "not_series_calls": bad,
                    "not_series_share": bad / n if n else None,
                }
            )
    return {"calling_hours": hours, "number_series": series}


def _ucc_section(rows: list[dict[str, Any]], config: SummaryConfig) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        reasons = []
        volume = int(r["outbound_calls"])
        if volume >= config.ucc_min_volume:
            share = r["short_answered_share"]
            if share is not None and share >= config.ucc_short_share:
                reasons.append(f"short answered calls {share:.0%} >= {config.ucc_short_share:.0%}")
            if r["in_out_ratio"] <= config.ucc_max_in_out_ratio:
                reasons.append(f"in/out ratio {r['in_out_ratio']:.3f} <= {config.ucc_max_in_out_ratio}")
        out.append(
            {
                "day": r["day"],
                "cli": r["cli"],
                "outbound_calls": volume,
                "answered": int(r["answered"]),
                "short_answered": int(r["short_answered"]),
                "short_answered_share": r["short_answered_share"],
                "inbound_calls": int(r["inbound_calls"]),
                "in_out_ratio": r["in_out_ratio"],
                "flagged": bool(reasons),
                "reasons": reasons,
            }
        )
    return out
