"""HTML for people: one self-contained page per :class:`~.document.Report` (inline CSS, charts as inline
SVG), light and print-friendly, from the Jinja2 template ``templates/report.html.j2`` and the one stylesheet
``templates/report.css``.

Every text reaches the page through :func:`escape_text` (printable, HTML-escaped); autoescaping stays on so a
value the template forgot to filter is still escaped.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from airflow_provider_vobiz.reports.render.charts import chart_svg
from airflow_provider_vobiz.reports.render.document import Chart, Report
from airflow_provider_vobiz.reports.render.text import cell_text, is_numeric, printable

_TEMPLATES = Path(__file__).parent / "templates"


def escape_text(text: str) -> Markup:
    """Text for the page: printable, then escaped (quotes too, so it is safe inside an attribute)."""
    return Markup(html.escape(printable(str(text))))


def _cell(value: Any) -> Markup:
    return escape_text(cell_text(value))


def _svg(chart: Chart) -> Markup:
    # matplotlib's SVG of a chart whose texts are printable and ``$``-escaped (document.Chart).
    return Markup(chart_svg(chart))


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(text=escape_text, cell=_cell, svg=_svg)
    env.tests["numeric"] = is_numeric
    return env


@functools.cache
def stylesheet() -> str:
    """The one stylesheet of every page the provider writes."""
    return (_TEMPLATES / "report.css").read_text(encoding="utf-8")


def render_html(report: Report) -> bytes:
    """One self-contained HTML document: no scripts, no external fonts, images or stylesheets."""
    page = _environment().get_template("report.html.j2").render(report=report, css=Markup(stylesheet()))
    return page.encode("utf-8")


__all__ = ["escape_text", "render_html", "stylesheet"]
