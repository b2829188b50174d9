"""How a value reads for people, in every human-readable format (HTML, PDF, chart labels).

No value can break a rendering: text passes :func:`printable` (control characters and lone surrogates never
reach HTML or PDF markup) and a table cell longer than :data:`CELL_LIMIT` characters is cut with a visible
marker (the whole value stays in CSV/JSON).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from decimal import Decimal
from typing import Any

#: Longest table cell shown to people; a longer one is cut and says so (CSV/JSON keep the whole value).
CELL_LIMIT = 200
#: Longest chart label (axis tick, legend entry).
LABEL_LIMIT = 40


def printable(text: str) -> str:
    """``text`` without control characters or lone surrogates: whitespace controls become a space, the rest
    U+FFFD, so HTML stays valid and reportlab's paragraph markup never sees them."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs"):
            out.append(" " if ch in "\t\n\r\x0b\x0c" else "\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def cut(text: str, limit: int = CELL_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with a visible marker saying how long the whole value is."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text):,} characters, whole value in CSV/JSON]"


def format_value(value: Any) -> str:
    """How a cell prints for people: ints with thousands separators, floats with two decimals."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.2f}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def cell_text(value: Any) -> str:
    """A table cell as people read it: formatted, printable, cut when longer than :data:`CELL_LIMIT`."""
    return cut(printable(format_value(value)))


def is_numeric(value: Any) -> bool:
    """A cell aligned to the right as a figure (a bool is a yes/no, not a figure)."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def chart_label(value: Any, limit: int = 0) -> str:
    """A chart text: printable, cut to ``limit`` (:data:`LABEL_LIMIT`) with ``…``, ``$`` escaped so matplotlib
    never parses a value as math."""
    text = printable(str(value))
    limit = limit or LABEL_LIMIT
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


__all__ = [
    "CELL_LIMIT",
    "LABEL_LIMIT",
    "cell_text",
    "chart_label",
    "cut",
    "format_value",
    "is_numeric",
    "printable",
]
