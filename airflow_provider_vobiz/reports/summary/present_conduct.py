"""The report's conduct sections for people: calling hours and number series (TCCCPR), UCC risk, cost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_vobiz.privacy import mask_number
from airflow_provider_vobiz.reports.render import REFERENCE_LABEL, Chart, Section, Table
from airflow_provider_vobiz.reports.summary.cells import money, num, pct


def calling_hours_section(doc: Mapping[str, Any]) -> Section:
    """Outbound calls outside the calling window and campaign CLIs outside the number series (TCCCPR)."""
    start, end = doc["config"]["calling_window"]
    rows = [
        [
            r["campaign_id"] or "(no campaign)",
            "yes" if r["presumed_promotional"] else "no",
            num(r["outbound_calls"]),
            num(r["outside_window_answered"]),
            num(r["outside_window_unanswered"]),
        ]
        for r in doc["calling_hours"]
        if r["day"] == "period"
    ]
    series_rows = [
        [r["campaign_id"], num(r["calls"]), num(r["not_series_calls"]), pct(r["not_series_share"])]
        for r in doc["number_series"]
        if r["day"] == "period"
    ]
    hours = [r for r in doc["hours"] if r["day"] == "period" and r["direction"] == "outbound"]
    per_hour = {int(r["local_hour"]): int(r["calls"]) for r in hours}
    return Section(
        "Calling hours and number series (TCCCPR)",
        paragraphs=[
            f"Outbound calls started outside {start}–{end} {doc['timezone']} (configurable window; "
            f"{REFERENCE_LABEL}). Campaign traffic is presumed promotional (configurable).",
            "Number series: share of campaign calls whose CLI is not in the 140xx (promotional) or 1600/1601 "
            "(service/transactional) series; 10-digit numbers are banned for telemarketing (TCCCPR amendment, Feb 2025).",
        ],
        tables=[
            Table(
                [
                    "Campaign",
                    "Promotional",
                    "Outbound calls",
                    "Outside window, answered",
                    "Outside window, unanswered",
                ],
                rows,
                caption="Calls outside the window, per campaign",
            ),
            Table(
                ["Campaign", "Calls", "Not 140xx/1600/1601", "Share"],
                series_rows,
                caption="Number series of campaign CLIs",
            ),
        ],
        charts=[
            Chart(
                "bar",
                f"Outbound calls per hour of day ({doc['timezone']})",
                [f"{h:02d}" for h in range(24)],
                {"outbound calls": [per_hour.get(h, 0) for h in range(24)]},
                "calls",
            )
        ],
    )


def ucc_section(doc: Mapping[str, Any]) -> Section:
    """UCC risk per outbound CLI over the period, numbers masked."""
    cfg = doc["config"]
    flagged = [r for r in doc["ucc"] if r["flagged"] and r["day"] != "period"]
    period = [r for r in doc["ucc"] if r["day"] == "period"]
    rows = [
        [
            mask_number(r["cli"]),
            num(r["outbound_calls"]),
            pct(r["short_answered_share"]),
            num(r["inbound_calls"]),
            num(r["in_out_ratio"], 3),
            str(sum(1 for f in flagged if f["cli"] == r["cli"])),
        ]
        for r in period
    ]
    return Section(
        "UCC risk per outbound CLI",
        paragraphs=[
            f"Operators must flag high volumes, short calls and low incoming-to-outgoing ratios (TCCCPR). Thresholds "
            f"(configurable, no TRAI numeric threshold was found): a CLI-day is flagged from {cfg['ucc_min_volume']} "
            f"outbound calls when answered calls under {cfg['ucc_short_seconds']} s are ≥ {cfg['ucc_short_share']:.0%} "
            f"or inbound/outbound ≤ {cfg['ucc_max_in_out_ratio']}."
        ],
        tables=[
            Table(
                [
                    "CLI",
                    "Outbound calls",
                    f"Answered < {cfg['ucc_short_seconds']} s",
                    "Inbound calls",
                    "In/out ratio",
                    "Days flagged",
                ],
                rows,
                caption="Whole period, per CLI (numbers masked)",
            )
        ],
    )


def cost_section(doc: Mapping[str, Any]) -> Section:
    """The period's cost, and by trunk and region."""
    t = doc["totals"]
    rows = [
        [
            r["trunk"],
            r["region"],
            num(int(r["calls"])),
            money(r["total_cost"]),
            money(r["cost"]),
            money(r["streaming_cost"]),
            money(r["total_cost_per_answered_minute"]),
        ]
        for r in doc["cost"]["by_trunk_region"]
        if r["day"] == "period"
    ]
    return Section(
        "Cost (INR)",
        paragraphs=[
            f"total_cost {money(t['total_cost'])}, cost {money(t['cost'])}, streaming_cost {money(t['streaming_cost'])}, "
            f"per answered minute {money(t['total_cost_per_answered_minute'])}."
        ],
        tables=[
            Table(
                ["Trunk", "Region", "Calls", "total_cost", "cost", "streaming_cost", "per answered minute"],
                rows,
                caption="By trunk and region",
            )
        ],
    )
