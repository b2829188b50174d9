"""The list path: the paged list endpoint's JSON records, normalised in batches of 1,000 as pages arrive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_provider_vobiz.cdr.assemble import DayAssembler
from airflow_provider_vobiz.cdr.normalize import Normalizer, batches_of
from airflow_provider_vobiz.lake.ingest.pull import Progress, Pull, attr
from airflow_provider_vobiz.lake.ingest.reconcile import PageFigures, PullCounts


def pull_list(pull: Pull) -> tuple[PullCounts, DayAssembler, Normalizer]:
    """The paged list endpoint: its ``pagination.total`` is the reference; after the last page, a second
    query's ``summary`` (and total) is the independent count.

    :returns: the API's figures, the day's records assembled, and the normaliser.
    """
    normalizer = pull.make_normalizer()
    pages = pull.hook.iter_pages(per_page=pull.per_page, **pull.filters)
    figures = PageFigures(normalizer.account_id)
    assembler: DayAssembler | None = None
    progress = Progress("Reading CDR pages")

    def records() -> Iterator[Any]:
        for page in pages:
            figures.see(page)
            yield from attr(page, "records") or []

    for chunk in batches_of(records(), 1000):
        if assembler is None:
            assembler = DayAssembler(
                pull.window, pull.tmp, expected_rows=figures.total, memory_limit=pull.memory_limit
            )
        assembler.add(normalizer.from_records(chunk))
        progress.tick(normalizer.records_read)
    progress.done(normalizer.records_read)
    if assembler is None:
        assembler = DayAssembler(pull.window, pull.tmp, expected_rows=0, memory_limit=pull.memory_limit)
    return figures.counts(pull.hook.query_totals(**pull.filters)), assembler, normalizer
