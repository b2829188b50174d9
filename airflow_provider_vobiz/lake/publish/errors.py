"""Failures of a publish: each one leaves the previously published version what readers see."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

#: What S3 raises through boto3: a publish turns these into :class:`PublishError` before its commit point.
S3_ERRORS = (ClientError, BotoCoreError)


class PublishError(RuntimeError):
    """Publishing failed before its commit point: the previously published version is unchanged."""


class PartitionBusyError(PublishError):
    """Another run is publishing the same day; retry later (Airflow's task retry does)."""


class PublishConflictError(PublishError):
    """The partition changed under this publish (its lease expired); nothing was committed: retry."""
