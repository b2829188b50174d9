"""The summary as a tidy CSV: one row per (section, day, direction, key, metric)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_vobiz.reports.render import render_csv

CSV_COLUMNS = ["section", "call_date", "direction", "key", "metric", "value"]
_CSV_METRICS = (
    "calls",
    "answered",
    "unanswered",
    "mou",
    "asr",
    "ner",
    "ner_excl_originator_cancel",
    "setup_success_proxy",
    "dropped_call_proxy",
    "acd_mean",
    "acd_median",
    "acd_p90",
    "pdd_ms_p50",
    "pdd_ms_p95",
    "pdd_zero_share",
    "ring_time_p50",
    "ring_time_p95",
    "false_answer_suspects",
    "false_answer_share",
    "mos_mean",
    "mos_p5",
    "mos_good_share",
    "mos_poor_share",
    "jitter_p95",
    "jitter_over_30ms_share",
    "packet_loss_over_1pct_share",
    "unanswered_u",
    "unanswered_d",
    "unanswered_x",
    "unanswered_k",
    "originator_cancel",
    "dropped",
    "cost",
    "total_cost",
    "streaming_cost",
    "total_cost_per_answered_minute",
)

#: The figures written for each CLI-day of the UCC section and each trunk/region-day of the cost section.
_UCC_METRICS = (
    "outbound_calls",
    "answered",
    "short_answered_share",
    "inbound_calls",
    "in_out_ratio",
    "flagged",
)
_COST_METRICS = ("calls", "cost", "total_cost", "streaming_cost", "total_cost_per_answered_minute")


def _traffic_rows(doc: Mapping[str, Any]) -> list[list[Any]]:
    """The traffic metrics of the period and of each day, for all directions and each; missing days."""
    rows: list[list[Any]] = []

    def metrics(day: str, direction: str, m: Mapping[str, Any]) -> None:
        rows.extend(["traffic", day, direction, "", k, m.get(k)] for k in _CSV_METRICS)

    for direction, m in (("all", doc["totals"]), *doc["by_direction"].items()):
        metrics("period", direction, m)
    for d in doc["by_day"]:
        if not d["present"]:
            rows.append(["coverage", d["call_date"], "all", "", "missing", True])
            continue
        metrics(d["call_date"], "all", d)
        for direction, m in d["by_direction"].items():
            metrics(d["call_date"], direction, m)
    return rows


def _breakdown_rows(doc: Mapping[str, Any]) -> list[list[Any]]:
    """Hangups, codecs, calling hours, number series, UCC risk and cost, keyed by what they count."""
    rows: list[list[Any]] = []
    for group in ("by_cause", "by_class", "by_source"):
        for day, counts in doc["hangups"][group].items():
            rows.extend([f"hangup_{group[3:]}", day, "all", k, "calls", v] for k, v in counts.items())
    for day, counts in doc["codec_mix"].items():
        rows.extend(["codec", day, "all", k, "answered", v] for k, v in counts.items())
    for r in doc["calling_hours"]:
        key = r["campaign_id"] or "(no campaign)"
        for k in ("outbound_calls", "outside_window_answered", "outside_window_unanswered"):
            rows.append(["calling_hours", r["day"], "outbound", key, k, r[k]])
    for r in doc["number_series"]:
        for k in ("calls", "not_series_calls", "not_series_share"):
            rows.append(["number_series", r["day"], "outbound", r["campaign_id"], k, r[k]])
    for r in doc["ucc"]:
        rows.extend(["ucc", r["day"], "outbound", r["cli"], k, r[k]] for k in _UCC_METRICS)
    for r in doc["cost"]["by_trunk_region"]:
        key = f"{r['trunk']}|{r['region']}"
        rows.extend(["cost", r["day"], "all", key, k, r[k]] for k in _COST_METRICS)
    return rows


def _status_rows(doc: Mapping[str, Any]) -> list[list[Any]]:
    """Each day's data quality, then the report's own status, version and the versions it supersedes."""
    rows: list[list[Any]] = []
    for day, q in doc["quality"]["days"].items():
        for k in ("status", "rejects", "restatements"):
            if k in q:
                rows.append(["data_quality", day, "all", "", k, q[k]])
    period = doc["period"]
    rows.append(["report", period, "all", "", "status", doc.get("status")])
    rows.append(["report", period, "all", "", "version", doc.get("version", 1)])
    for v in doc.get("supersedes") or []:
        rows.append(["report", period, "all", f"version {v['version']}", "superseded_sha256", v["sha256"]])
    return rows


def summary_csv(doc: Mapping[str, Any]) -> bytes:
    """A tidy CSV of every figure: one row per (section, day, direction, key, metric)."""
    return render_csv(CSV_COLUMNS, [*_traffic_rows(doc), *_breakdown_rows(doc), *_status_rows(doc)])
