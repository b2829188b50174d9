"""The report's traffic sections for people: overview, per day, voice quality and hangup attribution."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from airflow_provider_vobiz.reports.render import REFERENCE_LABEL, Chart, Section, Table
from airflow_provider_vobiz.reports.summary.cells import chart_pct, num, pct

#: ``(column label, metrics)`` of the per-direction tables' columns: the whole period, then each direction.
Directions = Sequence[tuple[str, Mapping[str, Any]]]


def direction_columns(doc: Mapping[str, Any]) -> Directions:
    """The whole period's metrics (``All``), then each direction's."""
    return [("All", doc["totals"]), *((k.capitalize(), v) for k, v in doc["by_direction"].items())]


def _row(directions: Directions, label: str, key: str, fmt: Callable[[Any], str], ref: str = "") -> list[Any]:
    return [label, *(fmt(m.get(key)) for _, m in directions), ref]


def overview_section(doc: Mapping[str, Any], directions: Directions) -> Section:
    """The period's traffic and accessibility per direction, with the references."""
    refs = doc["references"]
    row = partial(_row, directions)
    overview = Table(
        ["Metric", *(d for d, _ in directions), REFERENCE_LABEL],
        [
            row("Calls (N)", "calls", num),
            row("Answered (A)", "answered", num),
            row("Minutes of use", "mou", num),
            row("ASR = A / N", "asr", pct),
            row("NER = (A + U) / N", "ner", pct),
            row("NER without ORIGINATOR_CANCEL", "ner_excl_originator_cancel", pct),
            row(
                "Setup-success proxy = (N − X) / N",
                "setup_success_proxy",
                pct,
                f"≥ {refs['setup_success_proxy']:.0%}",
            ),
            row(
                "Dropped-call proxy = answered X / A",
                "dropped_call_proxy",
                pct,
                f"≤ {refs['dropped_call_proxy']:.0%}",
            ),
            row("ACD mean (s)", "acd_mean", num),
            row("ACD median (s)", "acd_median", num),
            row("ACD p90 (s)", "acd_p90", num),
            row("PDD proxy p50 (ms)", "pdd_ms_p50", num),
            row("PDD proxy p95 (ms)", "pdd_ms_p95", num),
            row("Ring time p50 (s)", "ring_time_p50", num),
            row("Ring time p95 (s)", "ring_time_p95", num),
            row("False-answer suspects", "false_answer_suspects", num),
            row("False-answer suspects / A", "false_answer_share", pct),
        ],
        caption="Traffic and accessibility, whole period",
    )
    return Section(
        "Overview",
        paragraphs=[
            "Figures come from the Parquet lake (never the API), one row per call (uuid), grouped by the IST "
            "day of start_time. References are shown for context; they are obligations on the licensed "
            "operator's network, and these CDR-based proxies do not establish compliance.",
        ],
        tables=[overview],
    )


def _daily_table(doc: Mapping[str, Any]) -> Table:
    return Table(
        [
            "Day",
            "Calls",
            "Answered",
            "MOU",
            "ASR",
            "NER",
            "Setup proxy",
            "Drop proxy",
            "ACD",
            "MOS",
            "Quality",
        ],
        [
            [
                d["call_date"],
                num(d["calls"]),
                num(d["answered"]),
                num(d["mou"]),
                pct(d["asr"]),
                pct(d["ner"]),
                pct(d["setup_success_proxy"]),
                pct(d["dropped_call_proxy"]),
                num(d["acd_mean"]),
                num(d["mos_mean"]),
                doc["quality"]["days"][d["call_date"]]["status"],
            ]
            if d["present"]
            else [d["call_date"], "missing", "", "", "", "", "", "", "", "", "missing"]
            for d in doc["by_day"]
        ],
        caption="Per day (all directions)",
    )


def per_day_section(
    doc: Mapping[str, Any], present_days: list[Mapping[str, Any]], labels: list[str]
) -> Section:
    """Each day's headline figures, and charts of them."""
    refs = doc["references"]
    return Section(
        "Per day",
        tables=[_daily_table(doc)],
        charts=[
            Chart(
                "bar",
                "Calls and answered calls per day",
                labels,
                {
                    "calls": [d["calls"] for d in present_days],
                    "answered": [d["answered"] for d in present_days],
                },
                "calls",
            ),
            Chart(
                "line",
                "ASR and NER per day (%)",
                labels,
                {
                    "ASR": [chart_pct(d["asr"]) for d in present_days],
                    "NER": [chart_pct(d["ner"]) for d in present_days],
                },
                "%",
            ),
            Chart(
                "line",
                "Setup-success proxy per day (%)",
                labels,
                {"setup-success proxy": [chart_pct(d["setup_success_proxy"]) for d in present_days]},
                "%",
                (
                    refs["setup_success_proxy"] * 100,
                    f"{REFERENCE_LABEL}: {refs['setup_success_proxy']:.0%}",
                ),
            ),
            Chart(
                "line",
                "Dropped-call proxy per day (%)",
                labels,
                {"dropped-call proxy": [chart_pct(d["dropped_call_proxy"]) for d in present_days]},
                "%",
                (
                    refs["dropped_call_proxy"] * 100,
                    f"{REFERENCE_LABEL}: {refs['dropped_call_proxy']:.0%}",
                ),
            ),
        ],
    )


def voice_quality_section(
    doc: Mapping[str, Any], directions: Directions, present_days: list[Mapping[str, Any]], labels: list[str]
) -> Section:
    """MOS, jitter and packet loss per direction, the codec mix, MOS per day."""
    table = Table(
        ["Metric", *(d for d, _ in directions)],
        [
            _row(directions, label, key, fmt)[:-1]
            for label, key, fmt in (
                ("MOS mean", "mos_mean", num),
                ("MOS p5", "mos_p5", num),
                ("Answered with MOS ≥ 3.6", "mos_good_share", pct),
                ("Answered with MOS < 3.5", "mos_poor_share", pct),
                ("Jitter p95 (ms)", "jitter_p95", num),
                ("Answered with jitter > 30 ms", "jitter_over_30ms_share", pct),
                ("Answered with packet loss > 1%", "packet_loss_over_1pct_share", pct),
            )
        ],
        caption="Voice quality (answered calls), whole period",
    )
    codecs = doc["codec_mix"].get("period", {})
    total = sum(codecs.values())
    codec_table = Table(
        ["Codec", "Answered calls", "Share"],
        [[c, num(n), pct(n / total if total else None)] for c, n in codecs.items()],
        caption="Codec mix (answered calls)",
    )
    return Section(
        "Voice quality",
        paragraphs=[
            "MOS bands (ITU-T G.107): ≥ 4.34 very satisfied, ≥ 3.60 some users dissatisfied; no TRAI MOS benchmark was found."
        ],
        tables=[table, codec_table],
        charts=[
            Chart(
                "line",
                "MOS per day (mean and p5)",
                labels,
                {
                    "mean": [d["mos_mean"] or 0 for d in present_days],
                    "p5": [d["mos_p5"] or 0 for d in present_days],
                },
                "MOS",
            )
        ],
    )


def hangup_section(
    doc: Mapping[str, Any], present_days: list[Mapping[str, Any]], labels: list[str]
) -> Section:
    """Hangups by cause, class and source, and a diagnosis of the top causes."""
    h = doc["hangups"]
    period_causes = h["by_cause"].get("period", {})
    total = sum(period_causes.values())
    cause_rows = [
        [c, doc["config"]["hangup_classes"].get(c, "K"), num(n), pct(n / total if total else None)]
        for c, n in sorted(period_causes.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    classes = h["by_class"].get("period", {})
    class_rows = [
        [k, h["classes"].get(k, "answered calls"), num(n), pct(n / total if total else None)]
        for k, n in sorted(classes.items())
    ]
    sources = h["by_source"].get("period", {})
    source_rows = [
        [s, num(n), pct(n / total if total else None)]
        for s, n in sorted(sources.items(), key=lambda kv: -kv[1])
    ]
    diag_rows = [
        [
            t["cause"],
            num(t["calls"]),
            t["meaning"],
            " ".join(t["likely_root_cause"][:2]),
            "; ".join(t["next_checks"][:3]),
        ]
        for t in h["top_causes"]
    ]
    series_keys = ["answered", "U", "D", "X", "K"]
    stacked = {
        k: [h["by_class"].get(d["call_date"], {}).get(k, 0) for d in present_days] for k in series_keys
    }
    return Section(
        "Hangup attribution",
        paragraphs=[
            "Classes (configurable): U user-determined, D number, X network or platform, K unknown; answered calls shown apart."
        ],
        tables=[
            Table(["Cause", "Class", "Calls", "Share"], cause_rows, caption="By hangup_cause"),
            Table(
                ["Class", "Meaning", "Calls", "Share"],
                class_rows,
                caption="By class (unanswered calls) and answered",
            ),
            Table(["hangup_source", "Calls", "Share"], source_rows, caption="By hangup_source (who hung up)"),
            Table(
                ["Cause", "Calls", "Meaning", "Likely root cause", "What to check"],
                diag_rows,
                caption="Diagnosis of the top causes",
            ),
        ],
        charts=[Chart("stacked_bar", "Calls per day by outcome class", labels, stacked, "calls")],
    )
