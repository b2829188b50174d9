"""Telling people: reports delivered by e-mail, alerts on failures, gaps and restatements.

Off until configured (the ``vobiz_notify_*`` Airflow Variables, :mod:`.settings`). Messages are built from
the lake's report JSON, validation results and task context (:mod:`.notice` the message model, :mod:`.report_messages`, :mod:`.alerts`; plain
Python), sent through
Airflow's SMTP and Slack notifiers once per content and recipients (:mod:`.delivery`), and wired into the
DAGs as callbacks and the ingest DAG's last task (:mod:`.callbacks`). Sending never fails a task.
"""

from __future__ import annotations

from airflow_provider_vobiz.notifications.callbacks import (
    alert_on_failure,
    deliver_retention_report,
    deliver_summary_report,
    ingest_alerts,
)
from airflow_provider_vobiz.notifications.settings import NotifySettings

__all__ = [
    "NotifySettings",
    "alert_on_failure",
    "deliver_retention_report",
    "deliver_summary_report",
    "ingest_alerts",
]
