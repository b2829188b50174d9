"""The Airflow side: task callbacks and the ingest DAG's last task, reading context, XCom and the lake.

- :func:`deliver_summary_report`, :func:`deliver_retention_report`: ``on_success_callback`` of the report
  tasks. They read the published JSON and PDF back from the lake (so the mail says exactly what the report
  says and attaches the very bytes of the lake's PDF); the retention one also raises the retention alert.
- :func:`alert_on_failure`: ``on_failure_callback`` (Airflow calls it only after the last retry). A quality
  task's failure becomes the list of failed critical checks and their counts from ``validation.json``.
- :func:`ingest_alerts`: the ingest DAG's last task: one digest of the days with warnings, and an alert for
  days already reported that were restated.

Each function returns normally whatever happens: a problem is a warning in the task's log.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_vobiz import settings as vobiz_settings
from airflow_provider_vobiz.notifications import alerts
from airflow_provider_vobiz.notifications.delivery import SENT, Dispatcher, SentMarkers
from airflow_provider_vobiz.notifications.notice import Notice, digest, scrub
from airflow_provider_vobiz.notifications.report_messages import report_fingerprint, report_notice
from airflow_provider_vobiz.notifications.settings import NotifySettings

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

log = logging.getLogger(__name__)


def never_fails(func: Callable[..., Any]) -> Callable[..., Any]:
    """Log any exception as a warning instead of raising: telling people must not change a task's outcome."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as err:
            log.warning("Notifications skipped (%s): %s: %s", func.__name__, type(err).__name__, scrub(err))
            return None

    return wrapper


def load_settings() -> NotifySettings:
    settings = NotifySettings.from_variables()
    for problem in settings.problems:
        log.warning("Notification setting ignored: %s", problem)
    return settings


# -- links ----------------------------------------------------------------------------------------------------
def run_link(settings: NotifySettings, context: Any) -> str | None:
    ti = context.get("ti")
    if ti is None:
        return None
    return f"{settings.base_url}/dags/{ti.dag_id}/runs/{quote(ti.run_id, safe='')}"


def report_link(settings: NotifySettings, kind: str, account_id: str, period: str) -> str:
    """The report's PDF on the Compliance reports page (behind Airflow's sign-in)."""
    from airflow_provider_vobiz.plugins.compliance import URL_PREFIX

    return f"{settings.base_url}{URL_PREFIX}/reports/{kind}/{account_id}/{period}/pdf?inline=true"


def object_link(storage: LakeStorage, key: str) -> str:
    from airflow_provider_vobiz.links.lake import object_url

    return object_url(storage.bucket, key, storage.endpoint_url, storage.region)


def partition_link(storage: LakeStorage, layout: LakeLayout, account_id: str, day: str) -> str:
    from airflow_provider_vobiz.links.lake import partition_url

    return partition_url(
        storage.bucket,
        layout.partition_prefix(account_id, day),
        storage.endpoint_url,
        storage.region,
    )


# -- the lake of a task ---------------------------------------------------------------------------------------
def lake_of(task: Any) -> tuple[LakeStorage, LakeLayout]:
    """The task's own lake (operators with ``lake_uri``), else the setting's lake on ``aws_default``."""
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

    if getattr(task, "lake_uri", None) and hasattr(task, "storage"):
        return task.storage, task.layout
    layout = LakeLayout.from_uri(vobiz_settings.resolve("lake_uri"))
    aws_conn_id = getattr(task, "aws_conn_id", None) or vobiz_settings.DEFAULT_AWS_CONN_ID
    return LakeStorage(aws_conn_id, layout.bucket), layout


def _task_result(context: Any) -> dict[str, Any]:
    ti = context["ti"]
    value = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index)
    return value if isinstance(value, dict) else {}


# -- report delivery -----------------------------------------------------------------------------------------
@never_fails
def deliver_summary_report(context: Any) -> dict[str, str] | None:
    """``on_success_callback`` of the summary report task: e-mail the monthly report (daily ones too when
    ``vobiz_notify_daily_reports`` is true)."""
    result, task = _task_result(context), context["task"]
    account = str(result.get("account_id") or getattr(task, "account_id", ""))
    period = str(result.get("period") or getattr(task, "period", ""))
    return _deliver_report(context, "summary", account, period, is_routine=len(period) == 10)


@never_fails
def deliver_retention_report(context: Any) -> dict[str, str] | None:
    """``on_success_callback`` of the retention report task: the retention alert (gaps, checksum mismatches,
    unlocked days expiring) whenever there is one, and the report itself as of the 1st of each month (every
    day when ``vobiz_notify_daily_reports`` is true)."""
    result, task = _task_result(context), context["task"]
    account = str(result.get("account_id") or getattr(task, "account_id", ""))
    as_of = str(result.get("as_of") or getattr(task, "as_of", ""))
    return _deliver_report(context, "retention", account, as_of, is_routine=not as_of.endswith("-01"))


def _deliver_report(
    context: Any, kind: str, account: str, period: str, *, is_routine: bool
) -> dict[str, str]:
    settings = load_settings()
    if not settings.enabled:
        log.info("Notifications are off (no vobiz_notify_* Variable set): no e-mail for this report")
        return {}
    storage, layout = lake_of(context["task"])
    key_of = layout.summary_report_key if kind == "summary" else layout.retention_report_key
    json_bytes = storage.get_bytes(key_of(account, period, "json"))
    import json

    doc = json.loads(json_bytes)
    markers = SentMarkers(storage, layout)
    dispatcher = Dispatcher(settings, markers, context)
    links = (report_link(settings, kind, account, period), run_link(settings, context))
    results: dict[str, str] = {}
    if kind == "retention":
        alert = alerts.retention_alert(doc, report_link=links[0], run_link=links[1])
        if alert is not None:
            results.update({f"alert_{k}": v for k, v in dispatcher.deliver(alert).items()})
    if is_routine and not settings.daily_reports:
        log.info("The %s report of %s is not e-mailed (vobiz_notify_daily_reports is off)", kind, period)
        return results
    pdf_key = key_of(account, period, "pdf")
    pdf = storage.get_bytes(pdf_key) if storage.exists(pdf_key) else None
    fingerprint = report_fingerprint(doc)
    previous = markers.latest(account, _report_topic(kind, period), other_than=fingerprint)
    notice = report_notice(
        kind,
        doc,
        pdf=pdf,
        max_attachment_bytes=settings.max_attachment_bytes,
        report_link=links[0],
        run_link=links[1],
        previous=previous,
    )
    results.update(
        dispatcher.deliver(
            notice,
            report_key=layout.s3_uri(key_of(account, period, "json")),
            report_sha256=hashlib.sha256(json_bytes).hexdigest(),
            generated_at=doc.get("generated_at"),
        )
    )
    return results


def _report_topic(kind: str, period: str) -> str:
    return f"trai_{kind}/{'period' if kind == 'summary' else 'as_of'}={period}"


# -- alerts ----------------------------------------------------------------------------------------------------
@never_fails
def alert_on_failure(context: Any) -> dict[str, str] | None:
    """``on_failure_callback``: a task failed after its last retry. Names the endpoint, status and day for
    API failures; lists the failed critical checks and their counts for a quality failure."""
    settings = load_settings()
    if not (settings.email_to("alert") or settings.slack_conn_id):
        return {}
    task, ti = context["task"], context["ti"]
    error = context.get("exception")
    day = _text(
        getattr(task, "call_date", None) or getattr(task, "period", None) or getattr(task, "as_of", None)
    )
    # The task's account, else the Variable's; no connection is read from a failure callback.
    account = vobiz_settings.resolve("account_id", getattr(task, "account_id", None), default="") or "unknown"
    markers = storage = layout = None
    try:
        storage, layout = lake_of(task)
        markers = SentMarkers(storage, layout)
    except Exception as err:
        log.warning("No lake for the sent-notifications record (%s): alerts are not deduplicated", scrub(err))
    links = [("Task log", ti.log_url)]
    if (r := run_link(settings, context)) is not None:
        links.append(("The Airflow run", r))
    notice = None
    if storage is not None and layout is not None and day and len(day) == 10 and account != "unknown":
        if storage.exists(layout.manifest_key(account, day)):  # a failed first extract published nothing
            links.append(("Partition", partition_link(storage, layout, account, day)))
        if getattr(task, "task_type", "") == "VobizCdrQualityOperator":
            notice = _quality_notice(storage, layout, account, day, links)
    if notice is None:
        notice = alerts.task_failure_alert(
            account_id=account,
            dag_id=ti.dag_id,
            task_id=ti.task_id if ti.map_index in (None, -1) else f"{ti.task_id}[{ti.map_index}]",
            run_id=ti.run_id,
            try_number=ti.try_number,
            day=day or None,
            error=error if isinstance(error, BaseException) else None,
            links=links,
        )
    return Dispatcher(settings, markers, context).deliver(notice)


def _quality_notice(
    storage: LakeStorage, layout: LakeLayout, account: str, day: str, links: list[tuple[str, str]]
) -> Notice | None:
    meta = _validation_meta(storage, layout, account, day)
    if meta is None or meta.get("status") != "failed":
        return None
    links = [("Validation result", object_link(storage, layout.validation_key(account, day, "html"))), *links]
    return alerts.quality_failure_alert(meta, links=links)


def _validation_meta(
    storage: LakeStorage, layout: LakeLayout, account: str, day: str
) -> dict[str, Any] | None:
    validation = storage.get_json(layout.validation_key(account, day, "json")) or {}
    meta = (validation.get("meta") or {}).get("vobiz")
    return meta if isinstance(meta, dict) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@never_fails
def ingest_alerts(
    results: Sequence[dict[str, Any] | None] | dict[str, Any] | None,
    *,
    lake_uri: str,
    aws_conn_id: str | None,
    context: Any,
) -> dict[str, Any] | None:
    """The ingest DAG's last task: a digest of the run's days with warnings and an alert for restated days
    that a published report already cites. ``results`` are the extract tasks' summaries (None for a day
    whose extract failed: that one has its own failure alert)."""
    settings = load_settings()
    if not (settings.email_to("alert") or settings.slack_conn_id):
        log.info("Alerts are off (no vobiz_notify_* Variable for alerts)")
        return {}
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage

    layout = LakeLayout.from_uri(vobiz_settings.resolve("lake_uri", lake_uri))
    storage = LakeStorage(aws_conn_id or None, layout.bucket)
    markers = SentMarkers(storage, layout)
    summaries = [results] if isinstance(results, dict) else [r for r in (results or []) if r]
    by_account: dict[str, dict[str, list]] = {}
    for s in summaries:
        found = by_account.setdefault(str(s["account_id"]), {"warnings": [], "restated": []})
        if (warning := _unsent_warning(storage, layout, markers, s)) is not None:
            found["warnings"].append(warning)
        if (restated := _restated_after_reporting(storage, layout, s)) is not None:
            found["restated"].append(restated)
    dispatcher = Dispatcher(settings, markers, context)
    link = run_link(settings, context)
    sent: dict[str, Any] = {}
    for account, found in sorted(by_account.items()):
        if found["warnings"]:
            sent[f"{account}:warnings"] = _send_warnings(
                dispatcher, markers, account, found["warnings"], link
            )
        if found["restated"]:
            notice = alerts.restatement_alert(account, found["restated"], run_link=link)
            sent[f"{account}:restated"] = dispatcher.deliver(notice)
    return sent


def _unsent_warning(
    storage: LakeStorage, layout: LakeLayout, markers: SentMarkers, summary: dict[str, Any]
) -> tuple[dict[str, Any], str, str] | None:
    """``(meta.vobiz, validation page link, digest)`` of a day whose current content carries warnings that
    were not reported yet, else None."""
    account, day = str(summary["account_id"]), str(summary["call_date"])
    meta = _validation_meta(storage, layout, account, day)
    if (
        not meta
        or meta.get("status") != "warning"
        or meta.get("content_sha256") != summary.get("content_sha256")
    ):
        return None
    day_digest = digest(meta.get("content_sha256"), meta.get("suite_sha256"))
    if markers.get(account, f"quality_warning/call_date={day}", day_digest) is not None:
        return None
    return meta, object_link(storage, layout.validation_key(account, day, "html")), day_digest


def _restated_after_reporting(
    storage: LakeStorage, layout: LakeLayout, summary: dict[str, Any]
) -> dict[str, Any] | None:
    """A restated day that a published summary report (of the day or its month) cites, for
    :func:`~.alerts.restatement_alert`; None when the day was not restated or no report cites it."""
    from airflow_provider_vobiz.lake.read import partition_manifest

    if not summary.get("restated"):
        return None
    account, day = str(summary["account_id"]), str(summary["call_date"])
    cited = [
        layout.s3_uri(key)
        for key in (
            layout.summary_report_key(account, day, "json"),
            layout.summary_report_key(account, day[:7], "json"),
        )
        if storage.exists(key)
    ]
    if not cited:
        return None
    manifest = partition_manifest(storage, layout, account, day)
    history = (manifest.history if manifest else []) or [{}]
    return {
        "call_date": day,
        "change": history[-1],
        "reports": cited,
        "link": partition_link(storage, layout, account, day),
    }


def _send_warnings(
    dispatcher: Dispatcher,
    markers: SentMarkers,
    account: str,
    warnings: list[tuple[dict[str, Any], str, str]],
    run_link: str | None,
) -> dict[str, str]:
    """One digest of the account's days with warnings; once sent, each day is marked so it is not repeated."""
    notice = alerts.warnings_digest(account, [(m, h) for m, h, _ in warnings], run_link=run_link)
    outcome = dispatcher.deliver(notice)
    if SENT in outcome.values():
        for meta, _, day_digest in warnings:
            markers.put(account, f"quality_warning/call_date={meta['call_date']}", day_digest, {"sent": True})
    return outcome
