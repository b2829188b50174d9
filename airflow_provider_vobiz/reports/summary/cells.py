"""How the report for people writes a figure in a cell: percentages, numbers, rupees, runs of days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def day_ranges(days: Sequence[str]) -> str:
    """``["2026-10-03", "2026-10-07", "2026-10-08", "2026-10-09"]`` -> ``"2026-10-03, 2026-10-07 to 2026-10-09"``."""
    out: list[str] = []
    run: list[dt.date] = []
    for d in sorted(dt.date.fromisoformat(x) for x in days):
        if run and d != run[-1] + dt.timedelta(days=1):
            out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]} to {run[-1]}")
            run = []
        run.append(d)
    if run:
        out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]} to {run[-1]}")
    return ", ".join(out)


def pct(v: Any) -> str:
    """A share as a percentage with two decimals (``–`` when there is none)."""
    return "–" if v is None else f"{float(v) * 100:.2f}%"


def num(v: Any, digits: int = 2) -> str:
    """A count with thousands separators, any other number with ``digits`` decimals."""
    if v is None:
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{float(v):,.{digits}f}"


def money(v: Any) -> str:
    """An amount in rupees, exact to the paisa."""
    return "–" if v is None else f"₹{Decimal(str(v)):,.2f}"


def chart_pct(v: Any) -> float:
    """A share as percentage points for a chart (a day without the figure is drawn at 0)."""
    return 0.0 if v is None else float(v) * 100
