"""Reconciliation: the records read against what the API says the query holds.

The figures come from the API's list endpoint for the same query: ``pagination.total`` (of the pages read,
or of a separate request), ``summary.totalCalls`` of a separate request (an aggregate the API computes apart
from its paging), and the export's own row count. The account the API answered for must be the partition's.
(The hook's ``iter_pages`` also checks, while paging, that the distinct records equal page 1's total.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_vobiz.lake.ingest.errors import IngestError, ReconciliationError
from airflow_provider_vobiz.lake.ingest.pull import attr


@dataclass
class PullCounts:
    """What the API said about the query: the figures the records read are reconciled against.

    :param method: ``export`` or ``list``.
    :param api_total: ``pagination.total`` for the query (the list method: of its first page).
    :param account_id: the account the API answered for.
    :param summary_total: ``summary.totalCalls`` of a separate list request for the same query: an
        aggregate the API computes apart from its paging (the list method asks it after the last page).
    :param second_total: ``pagination.total`` of that separate request (the list method only).
    :param export_rows: data rows the export's byte stream held, counted by the hook (the export only).
    """

    method: str
    api_total: int
    account_id: str | None
    summary_total: int | None = None
    second_total: int | None = None
    export_rows: int | None = None

    @classmethod
    def from_totals(cls, method: str, totals: Any, **kw: Any) -> PullCounts:
        """The figures of one ``query_totals`` answer (``total``, ``summary``, ``account_id``)."""
        summary = attr(totals, "summary") or {}
        calls = attr(summary, "totalCalls")
        return cls(
            method=method,
            api_total=int(attr(totals, "total")),
            account_id=attr(totals, "account_id"),
            summary_total=int(calls) if calls is not None else None,
            **kw,
        )

    def reconcile(self, records_read: int, distinct_read: int, filters: dict[str, str]) -> None:
        """Raise :class:`ReconciliationError` naming each figure the records read disagree with.

        The list method's records must be distinct: a record repeated across pages plus a page one short
        keeps ``records == total`` while a call is missing. One stream (the export) may list a uuid twice
        and count it twice, so there either count may match. A ``pagination.total`` under-reported with
        pages and ``has_next`` consistent with it is caught by the summary's independent count.
        """
        read = (distinct_read,) if self.method == "list" else (records_read, distinct_read)
        problems: list[str] = []

        def compare(what: str, expected: int | None) -> None:
            if expected is not None and expected not in read:
                missing = expected - distinct_read
                problems.append(
                    f"{what} is {expected} ({abs(missing)} call(s) "
                    + ("missing" if missing > 0 else "more than expected")
                    + ")"
                )

        compare("pagination.total", self.api_total)
        compare("the summary's totalCalls (a second query)", self.summary_total)
        if self.second_total is not None and self.second_total != self.api_total:
            problems.append(f"pagination.total changed to {self.second_total} during the pull")
        if self.export_rows is not None and self.export_rows != records_read:
            problems.append(f"the export held {self.export_rows} data rows")
        if problems:
            raise ReconciliationError(
                f"read {records_read} records ({distinct_read} distinct) for {filters} with the {self.method} "
                f"method, but {'; '.join(problems)}. Records arrived or left during the pull, or the API lost "
                "some. Nothing was published; a retry pulls the day again."
            )


def check_account(api_account: str | None, account_id: str) -> None:
    """Fail when the API answered for another account than the partition's (None: it did not say)."""
    if api_account is not None and api_account != account_id:
        raise IngestError(
            f"the API answered for account {api_account!r}, but the partition is for {account_id!r}: "
            "check the connection's Auth ID and the operator's account_id"
        )


class PageFigures:
    """What the list's pages say about the query as they arrive: the first ``pagination.total``, and the
    account (checked against the partition's on the first page that names one, and never to change).

    :param account_id: the partition's account.
    """

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.total: int | None = None
        self.api_account: str | None = None

    def see(self, page: Any) -> None:
        """Take one page's figures (before its records are used)."""
        pagination = attr(page, "pagination") or {}
        total = attr(pagination, "total")
        if self.total is None and total is not None:
            self.total = int(total)
        account = attr(page, "account_id")
        if account is not None:
            if self.api_account is None:
                self.api_account = account
                check_account(self.api_account, self.account_id)
            elif account != self.api_account:
                raise IngestError(f"the API changed account mid-pull: {self.api_account!r} then {account!r}")

    def counts(self, second_totals: Any) -> PullCounts:
        """The figures to reconcile with, given ``query_totals`` asked after the last page."""
        second = PullCounts.from_totals("list", second_totals)
        return PullCounts(
            method="list",
            # no page at all (the hook yields none for an empty result): the second request's total
            api_total=self.total if self.total is not None else second.api_total,
            account_id=self.api_account or second.account_id,
            summary_total=second.summary_total,
            second_total=second.api_total,
        )
