"""TraiRetentionReportOperator: the daily TRAI retention inventory, and retention enforcement when enabled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_vobiz import config
from airflow_provider_vobiz.lake.access import LakeAccessMixin
from airflow_provider_vobiz.lake.paths import REPORT_FORMATS
from airflow_provider_vobiz.links.lake import REPORT_URL_XCOM_KEY, VobizReportLink, push_object_link

if TYPE_CHECKING:
    from airflow.sdk import Context


_FALSE = ("", "0", "false", "no", "off", "none")


def as_bool(value: Any) -> bool:
    """A templated flag: Jinja renders booleans as text."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE
    return bool(value)


def as_int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


class TraiRetentionReportOperator(LakeAccessMixin, BaseOperator):
    """Inventory the retention window of one account's CDR lake and write the TRAI retention report.

    The report lands at ``{lake}/reports/trai_retention/account_id=…/as_of=…/retention.{csv,json,html,pdf}``.
    Enforcement actions are off by default; each one that runs is recorded in the report. The task fails after
    writing the report when an enforcement action reported errors.

    :param lake_uri: ``s3://bucket/prefix`` of the lake. (templated)
    :param account_id: the Vobiz auth id; empty: the Variable ``vobiz_account_id``, then the login of
        ``vobiz_conn_id``. (templated)
    :param as_of: the as-of day (YYYY-MM-DD); empty: the run's logical date (or run_after) in ``timezone``.
        (templated)
    :param aws_conn_id: the ``aws`` connection of the lake. (templated)
    :param vobiz_conn_id: only read for its login when no account is given. (templated)
    :param retention_years: the window, in calendar years (default 2, the licence obligation). (templated)
    :param verify: ``manifest`` (sizes and recorded hashes, fast) or ``full`` (re-hash every part). (templated)
    :param completeness: ``sample``, ``full`` or ``none``; empty: ``full`` with ``verify=full``, else ``sample``.
        (templated)
    :param completeness_sample_days: days read in ``sample`` mode. (templated)
    :param object_lock_mode: ``governance`` or ``compliance`` to lock newly published partitions until their
        retention ends; empty: off. (templated)
    :param lifecycle: put the ``vobiz-cdr-retention`` lifecycle rule on the bucket. (templated)
    :param purge_expired: delete partitions past retention plus ``grace_days`` (never under legal hold),
        logging each deletion. (templated)
    :param collect_unpublished: delete parts and rejects no manifest names that are older than any publish
        lease lives (what killed or failed publishes left; readers who follow the manifests never see them).
        (templated)
    :param grace_days: days kept after retention ends before a purge or the lifecycle rule removes a day.
        (templated)
    :param timezone: the timezone of the run's day. (templated)
    :param repull_days: the ingest's re-pull window in days; the report is ``provisional`` while the window's
        last day is inside it, else ``final`` (default 3; the retention DAG passes the Variable
        ``vobiz_repull_days``). (templated)
    :param formats: report formats to write.
    """

    template_fields: Sequence[str] = (
        "lake_uri",
        "account_id",
        "as_of",
        "aws_conn_id",
        "vobiz_conn_id",
        "retention_years",
        "verify",
        "completeness",
        "completeness_sample_days",
        "object_lock_mode",
        "lifecycle",
        "purge_expired",
        "collect_unpublished",
        "grace_days",
        "timezone",
        "repull_days",
    )
    operator_extra_links = (VobizReportLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        lake_uri: str,
        account_id: str = "",
        as_of: str | None = None,
        aws_conn_id: str = config.DEFAULT_AWS_CONN_ID,
        vobiz_conn_id: str = config.DEFAULT_VOBIZ_CONN_ID,
        retention_years: int | str = config.DEFAULT_RETENTION_YEARS,
        verify: str = "manifest",
        completeness: str = "",
        completeness_sample_days: int | str = 31,
        object_lock_mode: str = "",
        lifecycle: bool | str = False,
        purge_expired: bool | str = False,
        collect_unpublished: bool | str = True,
        grace_days: int | str = 30,
        timezone: str = config.DEFAULT_TIMEZONE,
        formats: Sequence[str] = REPORT_FORMATS,
        repull_days: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lake_uri = lake_uri
        self.account_id = account_id
        self.as_of = as_of
        self.aws_conn_id = aws_conn_id
        self.vobiz_conn_id = vobiz_conn_id
        self.retention_years = retention_years
        self.verify = verify
        self.completeness = completeness
        self.completeness_sample_days = completeness_sample_days
        self.object_lock_mode = object_lock_mode
        self.lifecycle = lifecycle
        self.purge_expired = purge_expired
        self.collect_unpublished = collect_unpublished
        self.grace_days = grace_days
        self.timezone = timezone
        self.repull_days = repull_days
        self.formats = tuple(formats)

    def resolve_account(self) -> str:
        from airflow.sdk import BaseHook, Variable

        account = str(self.account_id or "").strip() or Variable.get(config.VAR_ACCOUNT_ID, default="")
        if not account:
            account = BaseHook.get_connection(self.vobiz_conn_id).login or ""
        if not account:
            raise ValueError(
                f"No Vobiz account: set account_id, the Variable {config.VAR_ACCOUNT_ID}, or the login (Auth ID) "
                f"of connection {self.vobiz_conn_id!r}"
            )
        return account

    def resolve_as_of(self, context: Context) -> dt.date:
        from zoneinfo import ZoneInfo

        from airflow_provider_vobiz.cdr.window import parse_day

        if self.as_of and str(self.as_of).strip():
            return parse_day(self.as_of, "as_of")
        moment = context.get("logical_date")
        if moment is None and context.get("dag_run") is not None:
            moment = getattr(context["dag_run"], "run_after", None)
        moment = moment or dt.datetime.now(dt.timezone.utc)
        return moment.astimezone(ZoneInfo(self.timezone or config.DEFAULT_TIMEZONE)).date()

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_vobiz.reports.retention import (
            enforcement_failure,
            report_outcome,
            run_retention_report,
        )

        account = self.resolve_account()
        as_of = self.resolve_as_of(context)
        years = as_int(self.retention_years, "retention_years")
        grace = as_int(self.grace_days, "grace_days")
        dag_run = context.get("dag_run")
        run_info = {"dag_id": dag_run.dag_id, "run_id": dag_run.run_id} if dag_run is not None else None
        self.log.info(
            "Retention report of account %s as of %s (%d years, verify=%s) in %s",
            account,
            as_of,
            years,
            self.verify,
            self.layout.uri,
        )
        enforcement = self.enforce(account, as_of, years, grace, run_info)
        report, uris = run_retention_report(
            self.storage,
            self.layout,
            account,
            as_of,
            years=years,
            verify=str(self.verify).strip() or "manifest",
            completeness_mode=str(self.completeness or "").strip() or None,
            completeness_sample_days=as_int(self.completeness_sample_days, "completeness_sample_days"),
            enforcement=enforcement,
            formats=self.formats,
            dag_run=run_info,
            repull_days=as_int(
                config.DEFAULT_REPULL_DAYS if self.repull_days in (None, "") else self.repull_days,
                "repull_days",
            ),
        )
        self._reported = (account, [d for d in report["days"] if d.get("manifest_key")], list(uris.values()))
        if "html" in uris:
            html_key = self.layout.retention_report_key(account, as_of, "html")
            push_object_link(context, self.storage, REPORT_URL_XCOM_KEY, html_key)
        failure = enforcement_failure(enforcement)
        if failure:
            raise RuntimeError(failure)
        return report_outcome(report, uris)

    def enforce(
        self, account: str, as_of: dt.date, years: int, grace: int, run_info: dict[str, str] | None
    ) -> dict[str, Any]:
        """Run the enforcement actions the (templated) flags turn on; returns their record for the report."""
        from airflow_provider_vobiz.reports.retention import run_enforcement

        lock_mode = str(self.object_lock_mode or "").strip()
        return run_enforcement(
            self.storage,
            self.layout,
            account,
            as_of,
            years=years,
            grace_days=grace,
            collect_unpublished=as_bool(self.collect_unpublished),
            purge_expired=as_bool(self.purge_expired),
            object_lock_mode=lock_mode if lock_mode.lower() not in _FALSE else None,
            lifecycle=as_bool(self.lifecycle),
            dag_run=run_info,
        )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: each partition inventoried (versioned by its manifest) in, the report files out."""
        from airflow_provider_vobiz import lineage

        account, days, files = getattr(self, "_reported", (None, [], []))
        if account is None:
            return lineage.operator_lineage()
        return lineage.report_lineage(self.layout, account, days, files)
