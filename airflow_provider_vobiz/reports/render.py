"""Shared renderers: one generic document model, four formats.

A report is built once as a :class:`Report` (sections of paragraphs, tables and charts) and rendered to

- HTML: one self-contained file (inline CSS, charts as inline SVG), light and print-friendly;
- PDF: reportlab, charts as images, a Unicode font (DejaVu Sans, shipped with matplotlib) so masked numbers
  (``••••1234``) and symbols such as ``≥`` print as they are;

and, for machines, :func:`render_csv` and :func:`render_json` (stable bytes: sorted keys, exact decimals).

Nothing here knows about phone numbers: callers mask (HTML/PDF) or tokenise (CSV/JSON) them first with
:mod:`airflow_provider_vobiz.privacy`.

No value can break a rendering: text for people passes :func:`printable` (control characters and lone
surrogates never reach HTML or PDF markup) and a table cell longer than :data:`CELL_LIMIT` characters is cut
with a visible marker (the whole value stays in CSV/JSON); CSV cells follow the OWASP CSV-injection guidance
(:func:`neutralise_csv_cell`).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from airflow_provider_vobiz.reports.charts import chart_png, chart_svg, validate_chart

#: How every benchmark is labelled: it is the operator's obligation, never a claim of compliance.
REFERENCE_LABEL = "TRAI reference (an operator obligation)"


@dataclass
class Chart:
    """A chart: ``kind`` is ``bar``, ``line`` or ``stacked_bar``; one value per x label in each series.

    :param reference: an optional horizontal line ``(value, label)``, e.g. a TRAI reference.
    """

    kind: str
    title: str
    x: list[str]
    series: dict[str, list[float]]
    y_label: str = ""
    reference: tuple[float, str] | None = None

    def __post_init__(self) -> None:
        self.title = chart_label(self.title, 200)
        self.x = [chart_label(v) for v in self.x]
        series: dict[str, list[float]] = {}
        for name, values in self.series.items():
            label = chart_label(name)
            while label in series:  # two long names cut to the same label stay two series
                label += " "
            series[label] = values
        self.series = series
        validate_chart(self)


@dataclass
class Table:
    """A table; cells may be str, int, float, Decimal, bool or None (see :func:`format_value`)."""

    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.caption or self.columns!r}: row {i} has {len(row)} cells "
                    f"for {len(self.columns)} columns"
                )


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class Report:
    """A human-readable report.

    :param notices: shown at the top, highlighted (missing days, failed quality, ...).
    :param meta: label/value pairs stated under the title (inputs, policy, version ...).
    """

    title: str
    account_id: str
    period_label: str
    generated_at: str
    provider_version: str
    notices: list[str] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def header_rows(self) -> list[tuple[str, str]]:
        return [
            ("Account", self.account_id),
            ("Period", self.period_label),
            ("Generated at", self.generated_at),
            ("Provider version", self.provider_version),
            *self.meta,
        ]


# -- values ---------------------------------------------------------------------------------------------
def chart_label(value: Any, limit: int = 0) -> str:
    """A chart text: printable, cut to ``limit`` (:data:`LABEL_LIMIT`) with ``…``, ``$`` escaped so matplotlib
    never parses a value as math."""
    text = printable(str(value))
    limit = limit or LABEL_LIMIT
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


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


def _is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


# -- HTML -----------------------------------------------------------------------------------------------
_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1b1b1b;
background:#fff;margin:2rem auto;max-width:1100px;padding:0 1rem;font-size:14px;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;
padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:12px}
th,td{border:1px solid #d0d0d0;padding:3px 6px;vertical-align:top;overflow-wrap:anywhere;max-width:40rem}th{background:#f2f4f7;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.2rem 0;caption-side:top}
table.meta th{width:14rem}
.notices{border:2px solid #B00020;background:#fff4f4;padding:.5rem 1rem;margin:1rem 0}
.notices li{margin:.2rem 0}
figure{margin:.5rem 0 1rem}figure svg{max-width:100%;height:auto}
.scroll{overflow-x:auto}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}figure,table{page-break-inside:avoid}}
"""


def _esc(text: str) -> str:
    return html.escape(printable(text))


def _html_table(table: Table, css_class: str = "") -> str:
    out = [f'<div class="scroll"><table{f" class={chr(34)}{css_class}{chr(34)}" if css_class else ""}>']
    if table.caption:
        out.append(f"<caption>{_esc(table.caption)}</caption>")
    out.append(
        "<thead><tr>" + "".join(f"<th>{_esc(cell_text(c))}</th>" for c in table.columns) + "</tr></thead>"
    )
    out.append("<tbody>")
    for row in table.rows:
        cells = []
        for v in row:
            cls = ' class="num"' if _is_numeric(v) else ""
            cells.append(f"<td{cls}>{_esc(cell_text(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def render_html(report: Report) -> bytes:
    """One self-contained HTML document: no scripts, no external fonts, images or stylesheets."""
    e = _esc
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)} – {e(report.account_id)} – {e(report.period_label)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
    ]
    if report.notices:
        parts.append('<div class="notices" role="alert"><strong>Notices</strong><ul>')
        parts.extend(f"<li>{e(n)}</li>" for n in report.notices)
        parts.append("</ul></div>")
    parts.append(_html_table(Table(["Item", "Value"], [list(r) for r in report.header_rows()]), "meta"))
    for section in report.sections:
        parts.append(f"<section><h2>{e(section.heading)}</h2>")
        parts.extend(f"<p>{e(p)}</p>" for p in section.paragraphs)
        for chart in section.charts:
            parts.append(
                f'<figure class="chart" aria-label="{e(chart.title)}">{chart_svg(chart)}'
                f"<figcaption>{e(chart.title)}</figcaption></figure>"
            )
        parts.extend(_html_table(t) for t in section.tables)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


# -- PDF ------------------------------------------------------------------------------------------------
_FONT = "VobizSans"
_FONT_BOLD = "VobizSans-Bold"


def _register_fonts() -> tuple[str, str]:
    """DejaVu Sans from matplotlib's data (always installed with it), else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT in pdfmetrics.getRegisteredFontNames():
        return _FONT, _FONT_BOLD
    try:
        from pathlib import Path

        import matplotlib

        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont(_FONT, str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(_FONT_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
        return _FONT, _FONT_BOLD
    except Exception:  # pragma: no cover - a matplotlib without its fonts
        return "Helvetica", "Helvetica-Bold"


def render_pdf(report: Report) -> bytes:
    """A PDF for people: header, notices, then each section's text, charts and tables (A4)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )
    from reportlab.platypus import Table as RLTable

    font, bold = _register_fonts()
    title_style = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, spaceAfter=4)
    notice = ParagraphStyle("notice", parent=body, textColor=colors.HexColor("#B00020"))
    caption = ParagraphStyle("caption", fontName=bold, fontSize=8.5, leading=11, spaceBefore=4, spaceAfter=2)

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{report.title} – {report.account_id} – {report.period_label}",
        author="airflow-provider-vobiz",
        invariant=1,
    )
    width = doc.width

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(html.escape(printable(text)), style)

    def table(t: Table) -> list:
        ncols = max(len(t.columns), 1)
        size = 8 if ncols <= 6 else 7 if ncols <= 9 else 6
        cell = ParagraphStyle("cell", fontName=font, fontSize=size, leading=size + 2)
        cell_num = ParagraphStyle("celln", parent=cell, alignment=2)
        head = ParagraphStyle("head", fontName=bold, fontSize=size, leading=size + 2)
        data = [[para(cell_text(c), head) for c in t.columns]]
        for row in t.rows:
            data.append([para(cell_text(v), cell_num if _is_numeric(v) else cell) for v in row])
        # Column widths in proportion to their longest text (bounded), filling the page width.
        lengths = []
        for j in range(ncols):
            longest = max(
                # A header may wrap between words but never inside one ("Inboun/d").
                [len(str(t.columns[j])) * 0.7, max(map(len, str(t.columns[j]).split() or [""])) * 1.15]
                + [len(cell_text(r[j])) for r in t.rows[:200]],
                default=4,
            )
            lengths.append(min(max(longest, 4), 40))
        total = sum(lengths)
        widths = [width * n / total for n in lengths]
        rl = RLTable(data, colWidths=widths, repeatRows=1)
        rl.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c8c8c8")),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f4f7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                ]
            )
        )
        out: list = []
        if t.caption:
            out.append(para(t.caption, caption))
        out.append(rl)
        out.append(Spacer(1, 4))
        return out

    story: list = [para(report.title, title_style)]
    if report.notices:
        story.append(para("Notices", caption))
        story.extend(para(f"• {n}", notice) for n in report.notices)
        story.append(Spacer(1, 4))
    story.extend(table(Table(["Item", "Value"], [list(r) for r in report.header_rows()])))
    for section in report.sections:
        story.append(para(section.heading, h2))
        story.extend(para(p, body) for p in section.paragraphs)
        for chart in section.charts:
            png = chart_png(chart)
            img = Image(io.BytesIO(png), width=width, height=width * 3.0 / 7.0)
            story.append(KeepTogether([img, Spacer(1, 4)]))
        for t in section.tables:
            story.extend(table(t))

    def footer(canvas, doc_) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(
            doc_.leftMargin,
            8 * mm,
            cut(
                printable(
                    f"{report.title} · {report.account_id} · {report.period_label} · generated {report.generated_at}"
                ),
                120,
            ),
        )
        canvas.drawRightString(doc_.leftMargin + doc_.width, 8 * mm, f"page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


# -- machine-readable -----------------------------------------------------------------------------------
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_CSV_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_csv_cell(text: str) -> str:
    """OWASP CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, TAB or CR is prefixed with ``'``
    so a spreadsheet shows it as text instead of running it, unless the whole cell is a number (``-0.5``)."""
    if text.startswith(_CSV_TRIGGERS) and not _CSV_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return neutralise_csv_cell(str(value))


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """RFC 4180 CSV with a header row; empty cell for null, exact text for decimals; text cells neutralised
    against formula injection (:func:`neutralise_csv_cell`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise_csv_cell(str(c)) for c in columns])
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"CSV row {i} has {len(row)} cells for {len(columns)} columns")
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return None if (math.isnan(value) or math.isinf(value)) else value
    if isinstance(value, Decimal):
        # Exact: money stays a decimal string (a JSON float would round it).
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def render_json(obj: Any) -> bytes:
    """Stable JSON: sorted keys, two-space indent, UTF-8, NaN as null, Decimal as an exact string."""
    return (
        json.dumps(_jsonable(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    ).encode("utf-8")


__all__ = [
    "CELL_LIMIT",
    "REFERENCE_LABEL",
    "Chart",
    "Report",
    "Section",
    "Table",
    "cell_text",
    "cut",
    "format_value",
    "neutralise_csv_cell",
    "printable",
    "render_csv",
    "render_html",
    "render_json",
    "render_pdf",
]
