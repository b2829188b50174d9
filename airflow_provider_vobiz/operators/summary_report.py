"""TraiSummaryReportOperator: the TRAI summary of one account for one IST day or month, from the lake."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook, BaseOperator

from airflow_provider_vobiz import settings as provider_settings
from airflow_provider_vobiz.lake.access import LakeAccessMixin
from airflow_provider_vobiz.lake.paths import REPORT_FORMATS
from airflow_provider_vobiz.links.lake import REPORT_URL_XCOM_KEY, VobizReportLink, push_object_link
from airflow_provider_vobiz.settings import DEFAULT_AWS_CONN_ID, HMAC_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_vobiz.privacy import NumberPolicy


def days_from_asset_events(
    events: Mapping[Any, Sequence[Any]] | None, default_lake_uri: str
) -> list[dict[str, str]]:
    """Each distinct (account, day) named by CDR partition events, as operator kwargs, sorted.

    ``events`` is a run's ``triggering_asset_events`` (asset -> events with an ``extra`` dict carrying
    ``account_id``, ``call_date`` and ``lake_uri``). A day restated twice in one run is reported once.
    """
    import datetime as dt

    wanted: dict[tuple[str, str], str] = {}
    for asset_events in (events or {}).values():
        for event in asset_events:
            extra = dict(getattr(event, "extra", None) or {})
            account, day = extra.get("account_id"), extra.get("call_date")
            if not account or not day:
                raise ValueError(f"partition event without account_id/call_date in its extra: {extra!r}")
            dt.date.fromisoformat(str(day))
            wanted[(str(account), str(day))] = extra.get("lake_uri") or default_lake_uri
    return [{"account_id": a, "period": d, "lake_uri": uri} for (a, d), uri in sorted(wanted.items())]


class TraiSummaryReportOperator(LakeAccessMixin, BaseOperator):
    """Compute the TRAI summary report from the CDR lake and write it next to it.

    Reads only the period's partitions (and only the columns the metrics need), then writes
    ``{lake}/reports/trai_summary/account_id=…/period=…/summary.{csv,json,html,pdf}``. Phone numbers are keyed
    HMAC-SHA256 tokens in CSV/JSON (the key is the password of ``hmac_conn_id``) and masked to their last four
    digits in HTML/PDF. Returns a small XCom: the keys written and the headline figures.

    :param account_id: the Vobiz account (auth id). (templated)
    :param period: ``YYYY-MM-DD`` for a daily report, ``YYYY-MM`` for a monthly one. (templated)
    :param lake_uri: the lake, ``s3://bucket/prefix``. (templated)
    :param aws_conn_id: the ``aws`` connection of the lake.
    :param hmac_conn_id: connection whose password keys the phone-number tokens.
    :param include_raw_numbers: put raw numbers in CSV/JSON instead of tokens (explicit opt-in).
    :param settings: report settings (:class:`~airflow_provider_vobiz.reports.summary.SummaryConfig` fields:
        calling_window, hangup_classes, ucc thresholds, ...). (templated)
    :param formats: which of csv, json, html, pdf to write (json is always written).
    :param repull_days: the ingest's re-pull window in days; the report is ``provisional`` while a day of its
        period is inside it, else ``final``; unset (None or blank): Variable ``vobiz_repull_days``, else 3,
        read when the task runs. (templated)

    A report that replaces one stating something else (a restated day, a changed verdict, provisional turned
    final) keeps the old version in the lake and lists it, with its hash and why, under ``supersedes``.
    """

    template_fields: Sequence[str] = (
        "account_id",
        "period",
        "lake_uri",
        "aws_conn_id",
        "settings",
        "repull_days",
    )
    template_fields_renderers = {"settings": "json"}
    operator_extra_links = (VobizReportLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        account_id: str,
        period: str,
        lake_uri: str,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
        hmac_conn_id: str = HMAC_CONN_ID,
        include_raw_numbers: bool = False,
        settings: Mapping[str, Any] | None = None,
        formats: Sequence[str] = REPORT_FORMATS,
        repull_days: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id = account_id
        self.period = period
        self.lake_uri = lake_uri
        self.aws_conn_id = aws_conn_id
        self.hmac_conn_id = hmac_conn_id
        self.include_raw_numbers = include_raw_numbers
        self.settings = dict(settings or {})
        self.repull_days = repull_days
        unknown = sorted(set(formats) - set(REPORT_FORMATS))
        if unknown:
            raise ValueError(f"unknown report formats {unknown}; choose from {list(REPORT_FORMATS)}")
        self.formats = tuple(dict.fromkeys([*formats, "json"]))

    def number_policy(self) -> NumberPolicy:
        """The phone-number policy; the key is read here and never logged or returned."""
        from airflow_provider_vobiz.privacy import NumberPolicy

        if self.include_raw_numbers:
            self.log.warning("include_raw_numbers=True: CSV/JSON will carry raw phone numbers")
            return NumberPolicy(include_raw_numbers=True)
        try:
            conn = BaseHook.get_connection(self.hmac_conn_id)
        except Exception:
            raise ValueError(
                f"phone numbers in CSV/JSON are keyed HMAC tokens, and the key is the password of the Airflow "
                f"connection {self.hmac_conn_id!r}, which was not found: create it with a long random password "
                "(or set include_raw_numbers=True deliberately)"
            ) from None
        if not conn.password:
            raise ValueError(f"the connection {self.hmac_conn_id!r} has no password to key the HMAC tokens")
        from airflow.sdk.log import mask_secret

        mask_secret(conn.password)
        return NumberPolicy(key=conn.password.encode("utf-8"))

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_vobiz.reports import summary as summary_mod

        config = summary_mod.SummaryConfig.from_mapping(self.settings)
        policy = self.number_policy()
        dag_run = None
        if context.get("dag_run") is not None:
            dag_run = {"dag_id": context["dag_run"].dag_id, "run_id": context["dag_run"].run_id}
        self.log.info(
            "TRAI summary for %s, period %s, from %s", self.account_id, self.period, self.layout.uri
        )
        doc, keys = summary_mod.run_summary(
            self.storage,
            self.layout,
            self.account_id,
            self.period,
            policy,
            formats=self.formats,
            config=config,
            dag_run=dag_run,
            repull_days=provider_settings.resolve("repull_days", self.repull_days),
        )
        self._reported = (doc["inputs"], list(keys.values()))
        if "html" in keys:
            html_key = self.layout.summary_report_key(self.account_id, self.period, "html")
            push_object_link(context, self.storage, REPORT_URL_XCOM_KEY, html_key)
        if doc["missing_days"]:
            self.log.warning(
                "%d day(s) missing from the lake: %s", len(doc["missing_days"]), doc["missing_days"]
            )
        if doc["supersedes"] and doc["supersedes"][0]["version"] == doc["version"] - 1:
            self.log.info("version %d supersedes: %s", doc["version"], doc["supersedes"][0]["reason"])
        self.log.info(
            "wrote %s (%s): %s calls, ASR %s, worst quality %s",
            ", ".join(sorted(keys.values())),
            doc["status"],
            doc["totals"]["calls"],
            doc["totals"]["asr"],
            doc["quality"]["worst_status"],
        )
        return {
            "account_id": self.account_id,
            "period": self.period,
            "keys": keys,
            "calls": doc["totals"]["calls"],
            "asr": doc["totals"]["asr"],
            "worst_status": doc["quality"]["worst_status"],
            "missing_days": doc["missing_days"],
            "status": doc["status"],
            "version": doc["version"],
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the partitions read (versioned by their manifests) in, the report files out."""
        from airflow_provider_vobiz import lineage

        inputs, keys = getattr(self, "_reported", ([], []))
        return lineage.report_lineage(self.layout, self.account_id, inputs, keys)
