"""How an ingest fails: each error leaves the published partition as it was (nothing is published)."""

from __future__ import annotations


class IngestError(RuntimeError):
    """The day cannot be ingested as asked (bad parameters, a date the API no longer keeps)."""


class ReconciliationError(IngestError):
    """The records read do not match what the API says the query holds; nothing was published."""


class RejectThresholdError(IngestError):
    """More records were quarantined than ``max_reject_ratio`` allows; nothing was published."""
