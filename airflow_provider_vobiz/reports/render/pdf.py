"""PDF for people: reportlab, A4, charts as images, a Unicode font (DejaVu Sans, shipped with matplotlib) so
masked numbers (``••••1234``) and symbols such as ``≥`` print as they are.

reportlab is imported when a PDF is rendered, never when the package is imported (DAG files and the
plugin import the report modules).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_vobiz.reports.render.charts import chart_png
from airflow_provider_vobiz.reports.render.document import Report, Table
from airflow_provider_vobiz.reports.render.text import cell_text, cut, is_numeric, printable

_FONT = "VobizSans"
_FONT_BOLD = "VobizSans-Bold"
#: Height of a chart image relative to its width (the charts are drawn 7 x 3 inches).
_CHART_ASPECT = 3.0 / 7.0
_GRID = "#c8c8c8"
_HEADER_BACKGROUND = "#f2f4f7"
_NOTICE_COLOUR = "#B00020"
_FOOTER_COLOUR = "#666666"


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


@dataclass(frozen=True)
class _Styles:
    """The paragraph styles of one document, and its fonts (tables size their own cells)."""

    font: str
    bold: str
    title: Any
    h2: Any
    body: Any
    notice: Any
    caption: Any

    @classmethod
    def create(cls) -> _Styles:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle

        font, bold = _register_fonts()
        body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, spaceAfter=4)
        return cls(
            font=font,
            bold=bold,
            title=ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=6),
            h2=ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4),
            body=body,
            notice=ParagraphStyle("notice", parent=body, textColor=colors.HexColor(_NOTICE_COLOUR)),
            caption=ParagraphStyle(
                "caption", fontName=bold, fontSize=8.5, leading=11, spaceBefore=4, spaceAfter=2
            ),
        )


def _para(text: str, style: Any) -> Any:
    """A paragraph of plain text: printable and escaped, since reportlab parses paragraphs as markup."""
    from reportlab.platypus import Paragraph

    return Paragraph(html.escape(printable(text)), style)


def _column_widths(t: Table, width: float) -> list[float]:
    """Column widths in proportion to their longest text (bounded), filling the page width."""
    lengths = []
    for j in range(max(len(t.columns), 1)):
        longest = max(
            # A header may wrap between words but never inside one ("Inboun/d").
            [len(str(t.columns[j])) * 0.7, max(map(len, str(t.columns[j]).split() or [""])) * 1.15]
            + [len(cell_text(r[j])) for r in t.rows[:200]],
            default=4,
        )
        lengths.append(min(max(longest, 4), 40))
    total = sum(lengths)
    return [width * n / total for n in lengths]


def _table(t: Table, width: float, styles: _Styles) -> list[Any]:
    """A table's caption, the table (header repeated on each page) and a little space after it."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Spacer, TableStyle
    from reportlab.platypus import Table as RLTable

    ncols = max(len(t.columns), 1)
    size = 8 if ncols <= 6 else 7 if ncols <= 9 else 6
    cell = ParagraphStyle("cell", fontName=styles.font, fontSize=size, leading=size + 2)
    cell_num = ParagraphStyle("celln", parent=cell, alignment=2)
    head = ParagraphStyle("head", fontName=styles.bold, fontSize=size, leading=size + 2)
    data = [[_para(cell_text(c), head) for c in t.columns]]
    for row in t.rows:
        data.append([_para(cell_text(v), cell_num if is_numeric(v) else cell) for v in row])
    rl = RLTable(data, colWidths=_column_widths(t, width), repeatRows=1)
    rl.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor(_GRID)),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(_HEADER_BACKGROUND)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    out: list[Any] = []
    if t.caption:
        out.append(_para(t.caption, styles.caption))
    out.append(rl)
    out.append(Spacer(1, 4))
    return out


def _story(report: Report, width: float, styles: _Styles) -> list[Any]:
    """Header, notices, then each section's text, charts and tables."""
    from reportlab.platypus import Image, KeepTogether, Spacer

    story: list[Any] = [_para(report.title, styles.title)]
    if report.notices:
        story.append(_para("Notices", styles.caption))
        story.extend(_para(f"• {n}", styles.notice) for n in report.notices)
        story.append(Spacer(1, 4))
    story.extend(_table(report.header_table(), width, styles))
    for section in report.sections:
        story.append(_para(section.heading, styles.h2))
        story.extend(_para(p, styles.body) for p in section.paragraphs)
        for chart in section.charts:
            img = Image(io.BytesIO(chart_png(chart)), width=width, height=width * _CHART_ASPECT)
            story.append(KeepTogether([img, Spacer(1, 4)]))
        for t in section.tables:
            story.extend(_table(t, width, styles))
    return story


def _footer(report: Report, font: str) -> Callable[[Any, Any], None]:
    """What each page says at its foot: the report, its account, period and generation time; the page."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    text = cut(
        printable(
            f"{report.title} · {report.account_id} · {report.period_label} · generated {report.generated_at}"
        ),
        120,
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor(_FOOTER_COLOUR))
        canvas.drawString(doc.leftMargin, 8 * mm, text)
        canvas.drawRightString(doc.leftMargin + doc.width, 8 * mm, f"page {doc.page}")
        canvas.restoreState()

    return footer


def render_pdf(report: Report) -> bytes:
    """A PDF for people: header, notices, then each section's text, charts and tables (A4)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    styles = _Styles.create()
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
    footer = _footer(report, styles.font)
    doc.build(_story(report, doc.width, styles), onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


__all__ = ["render_pdf"]
