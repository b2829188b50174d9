"""Chart images for the human-readable formats: matplotlib (Agg, no display) to SVG for HTML, PNG for PDF.

The output is deterministic for the same chart (no dates in the SVG metadata, fixed hash salt), so the same
report renders to the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

from airflow_provider_vobiz.reports.render.document import Chart, validate_chart

#: Colour-blind friendly palette (Okabe-Ito), also legible in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
REFERENCE_COLOUR = "#B00020"

_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)


def _figure(chart: Chart, width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    validate_chart(chart)
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    _draw_series(ax, chart)
    _draw_axes(ax, chart)
    fig.tight_layout()
    return fig


def _draw_series(ax: Any, chart: Chart) -> None:
    """The series as lines, side-by-side bars or stacked bars, then the reference line."""
    x = list(range(len(chart.x)))
    names = list(chart.series)
    clean = {n: [_num(v) for v in chart.series[n]] for n in names}
    if chart.kind == "line":
        for i, n in enumerate(names):
            ax.plot(
                x, clean[n], marker="o", markersize=3, linewidth=1.5, color=PALETTE[i % len(PALETTE)], label=n
            )
    elif chart.kind == "bar":
        k = max(len(names), 1)
        w = 0.8 / k
        for i, n in enumerate(names):
            ax.bar(
                [xi - 0.4 + w * (i + 0.5) for xi in x],
                clean[n],
                width=w,
                color=PALETTE[i % len(PALETTE)],
                label=n,
            )
    else:  # stacked_bar
        bottom = [0.0] * len(x)
        for i, n in enumerate(names):
            ax.bar(x, clean[n], bottom=bottom, width=0.8, color=PALETTE[i % len(PALETTE)], label=n)
            bottom = [b + v for b, v in zip(bottom, clean[n], strict=True)]
    if chart.reference is not None:
        value, label = chart.reference
        ax.axhline(float(value), color=REFERENCE_COLOUR, linestyle="--", linewidth=1.2, label=label)


def _draw_axes(ax: Any, chart: Chart) -> None:
    """Title, labels, ticks, grid and legend."""
    x = list(range(len(chart.x)))
    ax.set_title(chart.title, fontsize=10)
    if chart.y_label:
        ax.set_ylabel(chart.y_label, fontsize=8)
    ax.set_xticks(x)
    # Thin the labels of long axes (a month of days) so they stay readable.
    step = max(1, math.ceil(len(x) / 16))
    ax.set_xticklabels([lbl if i % step == 0 else "" for i, lbl in enumerate(chart.x)], fontsize=7)
    if any(len(str(lbl)) > 6 for lbl in chart.x):
        for tick in ax.get_xticklabels():
            tick.set_rotation(45)
            tick.set_horizontalalignment("right")
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if not x:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="#777777")
    if chart.series or chart.reference is not None:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _num(v: object) -> float:
    if v is None:
        return 0.0
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(f) else f


def chart_svg(chart: Chart, width: float = 7.0, height: float = 3.0) -> str:
    """The chart as an inline SVG element (text kept as text, no external references)."""
    import matplotlib

    fig = _figure(chart, width, height)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "vobiz"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    # Drop the XML prolog and doctype: the SVG is embedded in an HTML document.
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    # And the RDF metadata block: it only names external vocabularies.
    return _METADATA.sub("", svg)


def chart_png(chart: Chart, width: float = 7.0, height: float = 3.0, dpi: int = 150) -> bytes:
    """The chart as PNG bytes (for the PDF)."""
    fig = _figure(chart, width, height)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


__all__ = ["PALETTE", "REFERENCE_COLOUR", "chart_png", "chart_svg"]
