"""The document model every human-readable output is built as: a :class:`Report` of sections holding
paragraphs, tables and charts. Building one renders nothing; :mod:`.html` and :mod:`.pdf` render it.

Nothing here knows about phone numbers: callers mask them first with :mod:`airflow_provider_vobiz.privacy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vobiz.reports.render.text import chart_label

#: How every benchmark is labelled: it is the operator's obligation, never a claim of compliance.
REFERENCE_LABEL = "TRAI reference (an operator obligation)"

#: The chart kinds the renderers draw.
CHART_KINDS = ("bar", "line", "stacked_bar")


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


def validate_chart(chart: Chart) -> None:
    """Reject a chart whose series do not match its x axis, with a message that names the series."""
    if chart.kind not in CHART_KINDS:
        raise ValueError(f"chart kind must be one of {CHART_KINDS}, got {chart.kind!r}")
    for name, values in chart.series.items():
        if len(values) != len(chart.x):
            raise ValueError(
                f"chart {chart.title!r}: series {name!r} has {len(values)} values for {len(chart.x)} x labels"
            )


@dataclass
class Table:
    """A table; cells may be str, int, float, Decimal, bool or None (see :func:`.text.format_value`)."""

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

    def header_table(self) -> Table:
        """The header rows as the table every format shows under the title."""
        return Table(["Item", "Value"], [list(r) for r in self.header_rows()])


__all__ = ["CHART_KINDS", "REFERENCE_LABEL", "Chart", "Report", "Section", "Table", "validate_chart"]
