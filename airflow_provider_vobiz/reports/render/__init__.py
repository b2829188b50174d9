"""The one rendering home of every document the provider writes: one document model, four formats.

A document is built once as a :class:`Report` (sections of paragraphs, tables and charts;
:mod:`.document`) and rendered, for people, to

- HTML (:mod:`.html`): one self-contained page from a Jinja2 template and the one stylesheet, charts as
  inline SVG;
- PDF (:mod:`.pdf`): reportlab, charts as PNG images (:mod:`.charts` draws both with matplotlib);

and, for machines, to CSV and JSON (:mod:`.files`; stable bytes, OWASP-neutralised CSV cells).
How a value reads for people (formatting, cutting, control characters) is in :mod:`.text`.

Nothing here knows about phone numbers: callers mask (HTML/PDF) or tokenise (CSV/JSON) them first with
:mod:`airflow_provider_vobiz.privacy`.
"""

from __future__ import annotations

from airflow_provider_vobiz.reports.render.document import REFERENCE_LABEL, Chart, Report, Section, Table
from airflow_provider_vobiz.reports.render.files import neutralise_csv_cell, render_csv, render_json
from airflow_provider_vobiz.reports.render.html import render_html
from airflow_provider_vobiz.reports.render.pdf import render_pdf
from airflow_provider_vobiz.reports.render.text import (
    CELL_LIMIT,
    LABEL_LIMIT,
    cell_text,
    chart_label,
    cut,
    format_value,
    printable,
)

__all__ = [
    "CELL_LIMIT",
    "LABEL_LIMIT",
    "REFERENCE_LABEL",
    "Chart",
    "Report",
    "Section",
    "Table",
    "cell_text",
    "chart_label",
    "cut",
    "format_value",
    "neutralise_csv_cell",
    "printable",
    "render_csv",
    "render_html",
    "render_json",
    "render_pdf",
]
