"""VobizCdrToS3Operator: one day of Vobiz CDRs into the Parquet lake on S3."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_vobiz import settings
from airflow_provider_vobiz.cdr.window import parse_day, zone
from airflow_provider_vobiz.lake.access import LakeAccessMixin, publish_owner
from airflow_provider_vobiz.lake.ingest import METHODS, IngestError, ingest_day
from airflow_provider_vobiz.links.lake import PARTITION_URL_XCOM_KEY, VobizPartitionLink, partition_url
from airflow_provider_vobiz.settings import DEFAULT_AWS_CONN_ID, DEFAULT_VOBIZ_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_vobiz.hooks.vobiz import VobizHook


class VobizCdrToS3Operator(LakeAccessMixin, BaseOperator):
    """Pull one day of CDRs from the Vobiz API and publish it as a partition of the Parquet lake.

    The day is ``call_date`` when given, else the data interval's start in ``timezone``. The query is padded
    by ``pad_days`` on each side; exactly the calls whose ``start_time`` falls in the day (in ``timezone``)
    are kept, each once (latest ``updated_at``), sorted by ``start_time, uuid``. The distinct records read
    must equal the API's ``pagination.total`` and an independent count (the ``summary`` of a second query,
    the export's row count), or the task fails naming the difference and publishes nothing. A record that
    cannot be stored (bad CSV row, invalid UTF-8, a value over its size limit, a non-finite number, an
    implausible start_time) is quarantined with its reason and masked phone numbers; the task fails only
    when rejects exceed ``max_reject_ratio`` of the records read. A re-run
    with unchanged data (and parts that still match the manifest) leaves the partition untouched; changed
    data replaces it as a whole, with one conditional manifest write as the commit point, and is recorded in
    the manifest's history. One run publishes a day at a time: another run of the same day waits for it, and
    of two pulls the later one wins (docs/lake.md, "Publish protocol"). A retry of this task takes over the
    publish lease a killed try left. Returns (XCom) a small summary of the manifest.

    Settings left empty (``lake_uri``, ``timezone``, ``method``, ``account_id``, ``max_reject_ratio``) are
    read from their Airflow Variable, else the provider's default (:mod:`airflow_provider_vobiz.settings`).

    :param lake_uri: ``s3://bucket/prefix`` of the lake. (templated)
    :param vobiz_conn_id: connection of type ``vobiz``. (templated)
    :param aws_conn_id: connection of type ``aws`` (an ``endpoint_url`` extra for MinIO/moto). (templated)
    :param timezone: IANA timezone of the partition's day, default Asia/Kolkata. (templated)
    :param method: ``export`` (one streamed CSV, the fast path) or ``list`` (paged JSON). (templated)
    :param pad_days: days added on each side of the API query. (templated)
    :param call_date: the day (``YYYY-MM-DD``); default: the data interval's start in ``timezone``. (templated)
    :param account_id: the partition's account; default: Variable ``vobiz_account_id``, then the connection's
        Auth ID. (templated)
    :param max_api_age_days: how many days back the API keeps CDRs; an older day fails with a clear
        message before any request. None: not checked. (templated)
    :param max_reject_ratio: share of the records read (0 to 1) that may be quarantined before the task
        fails instead of publishing the day without them; default 0.01. (templated)
    :param per_page: page size of the ``list`` method (max 100).
    :param memory_limit: DuckDB's memory limit while deduplicating (it spills to disk beyond).
    """

    template_fields: Sequence[str] = (
        "lake_uri",
        "vobiz_conn_id",
        "aws_conn_id",
        "timezone",
        "method",
        "pad_days",
        "call_date",
        "account_id",
        "max_api_age_days",
        "max_reject_ratio",
    )
    ui_color = "#e3f1fb"
    operator_extra_links = (VobizPartitionLink(),)

    def __init__(
        self,
        *,
        lake_uri: str | None = None,
        vobiz_conn_id: str = DEFAULT_VOBIZ_CONN_ID,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
        timezone: str | None = None,
        method: str | None = None,
        pad_days: int | str = 1,
        call_date: str | dt.date | None = None,
        account_id: str | None = None,
        max_api_age_days: int | str | None = None,
        max_reject_ratio: float | str | None = None,
        per_page: int = 100,
        memory_limit: str = "192MB",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lake_uri = lake_uri
        self.vobiz_conn_id = vobiz_conn_id
        self.aws_conn_id = aws_conn_id
        self.timezone = timezone
        self.method = method
        self.pad_days = pad_days
        self.call_date = call_date
        self.account_id = account_id
        self.max_api_age_days = max_api_age_days
        self.max_reject_ratio = max_reject_ratio
        self.per_page = per_page
        self.memory_limit = memory_limit

    @cached_property
    def hook(self) -> VobizHook:
        from airflow_provider_vobiz.hooks.vobiz import VobizHook

        return VobizHook(vobiz_conn_id=self.vobiz_conn_id)

    def resolve_call_date(self, context: Context | dict[str, Any]) -> dt.date:
        """``call_date`` if set, else the data interval's start as a calendar day in ``timezone``."""
        if self.call_date not in (None, ""):
            return parse_day(self.call_date)
        start = context.get("data_interval_start") or context.get("logical_date")
        if start is None:
            raise IngestError(
                "no call_date and no data interval: pass call_date='YYYY-MM-DD' (e.g. for a manual run)"
            )
        return start.astimezone(zone(settings.resolve("timezone", self.timezone))).date()

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_vobiz.hooks.exceptions import VobizBadRequestError

        method = settings.resolve("method", self.method)
        if method not in METHODS:
            raise IngestError(f"method must be one of {METHODS}, got {method!r}")
        day = self.resolve_call_date(context)
        account_id = settings.account_id(self.account_id, vobiz_conn_id=self.vobiz_conn_id)
        max_age = None if self.max_api_age_days in (None, "", "None") else int(self.max_api_age_days)
        try:
            max_reject_ratio = settings.resolve("max_reject_ratio", self.max_reject_ratio)
        except ValueError:
            raise IngestError(
                f"max_reject_ratio must be a number within [0, 1], got {self.max_reject_ratio!r}"
            ) from None
        try:
            summary = ingest_day(
                self.hook,
                self.storage,
                self.layout,
                account_id,
                day,
                timezone=settings.resolve("timezone", self.timezone),
                method=method,
                pad_days=int(self.pad_days),
                max_api_age_days=max_age,
                per_page=self.per_page,
                memory_limit=self.memory_limit,
                # A retry of this task takes over the lease a killed try left (other runs wait for it).
                owner=publish_owner(context),
                max_reject_ratio=max_reject_ratio,
            )
        except VobizBadRequestError as err:
            raise IngestError(
                f"the Vobiz API refused the query for {day} ({err}). If the day is older than the API keeps "
                "CDRs, set max_api_age_days to fail early and backfill it from a kept export."
            ) from err
        url = partition_url(
            self.layout.bucket,
            self.layout.partition_prefix(account_id, day),
            endpoint_url=self.storage.endpoint_url,
            region=self.storage.region,
        )
        context["ti"].xcom_push(key=PARTITION_URL_XCOM_KEY, value=url)
        self.log.info("Partition: %s (%s)", summary["partition_uri"], url)
        self._published = summary
        return summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the API query of the day in, the partition (schema, row count) out."""
        from airflow_provider_vobiz import lineage

        summary = getattr(self, "_published", None)
        api = (
            [lineage.api_input(self.hook.base_url, summary["account_id"], summary["call_date"])]
            if summary
            else []
        )
        return lineage.published_lineage(summary, self.layout, api)
