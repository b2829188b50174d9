"""Who is told what, read from Airflow Variables. Everything is off until a Variable turns it on.

=================================  ==========================================================================
Variable                           meaning
=================================  ==========================================================================
``vobiz_notify_smtp_conn_id``      SMTP connection (Airflow ``smtp`` type) for e-mail; empty: no e-mail
``vobiz_notify_report_recipients`` who receives the reports (comma or semicolon separated)
``vobiz_notify_alert_recipients``  who receives the alerts by e-mail
``vobiz_notify_slack_conn_id``     Slack incoming-webhook connection (``slackwebhook``); alerts and report
                                   notices are posted there too; empty: no Slack
``vobiz_notify_from``              the From address; empty: the SMTP connection's ``from_email`` extra
``vobiz_notify_max_attachment_mb`` PDFs larger than this are linked, not attached (default 10)
``vobiz_notify_daily_reports``     ``true``: deliver every daily summary and every retention report; default:
                                   monthly summaries and the retention report as of the 1st of each month
``vobiz_notify_base_url``          the Airflow UI's address in links; empty: ``[api] base_url``
=================================  ==========================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vobiz.settings import as_bool, variable

VAR_SMTP_CONN_ID = "vobiz_notify_smtp_conn_id"
VAR_REPORT_RECIPIENTS = "vobiz_notify_report_recipients"
VAR_ALERT_RECIPIENTS = "vobiz_notify_alert_recipients"
VAR_SLACK_CONN_ID = "vobiz_notify_slack_conn_id"
VAR_FROM = "vobiz_notify_from"
VAR_MAX_ATTACHMENT_MB = "vobiz_notify_max_attachment_mb"
VAR_DAILY_REPORTS = "vobiz_notify_daily_reports"
VAR_BASE_URL = "vobiz_notify_base_url"
ALL_VARIABLES = (
    VAR_SMTP_CONN_ID,
    VAR_REPORT_RECIPIENTS,
    VAR_ALERT_RECIPIENTS,
    VAR_SLACK_CONN_ID,
    VAR_FROM,
    VAR_MAX_ATTACHMENT_MB,
    VAR_DAILY_REPORTS,
    VAR_BASE_URL,
)
DEFAULT_MAX_ATTACHMENT_MB = 10.0
_ADDRESS_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+$")


def parse_recipients(value: str | None, name: str = "recipients") -> tuple[str, ...]:
    """``"a@x.in; b@x.in"`` -> ``("a@x.in", "b@x.in")`` (order kept, duplicates dropped)."""
    out: list[str] = []
    for item in re.split(r"[,;\s]+", value or ""):
        if not item:
            continue
        if not _ADDRESS_RE.match(item):
            raise ValueError(f"{name}: {item!r} is not an e-mail address")
        if item not in out:
            out.append(item)
    return tuple(out)


@dataclass(frozen=True)
class NotifySettings:
    """The resolved configuration; :meth:`from_variables` reads it, the constructor takes it directly.

    :param smtp_conn_id: SMTP connection id; None turns e-mail off.
    :param report_recipients: addresses that receive report e-mails.
    :param alert_recipients: addresses that receive alert e-mails.
    :param slack_conn_id: Slack incoming-webhook connection id; None turns Slack off.
    :param from_email: the From address (None: the SMTP connection's ``from_email`` extra).
    :param max_attachment_bytes: larger PDFs are linked instead of attached.
    :param daily_reports: also deliver daily summaries and every day's retention report.
    :param base_url: the Airflow UI's address, for links.
    """

    smtp_conn_id: str | None = None
    report_recipients: tuple[str, ...] = ()
    alert_recipients: tuple[str, ...] = ()
    slack_conn_id: str | None = None
    from_email: str | None = None
    max_attachment_bytes: int = int(DEFAULT_MAX_ATTACHMENT_MB * 1024 * 1024)
    daily_reports: bool = False
    base_url: str = "http://localhost:8080"
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_variables(cls) -> NotifySettings:
        """Read the ``vobiz_notify_*`` Variables. A bad value turns its part off and is reported in
        :attr:`problems` (sending must never fail a task, not even a misconfigured one)."""
        raw = {name: (variable(name, default="") or "").strip() for name in ALL_VARIABLES}
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> NotifySettings:
        problems: list[str] = []

        def recipients(name: str) -> tuple[str, ...]:
            try:
                return parse_recipients(str(raw.get(name) or ""), name)
            except ValueError as err:
                problems.append(str(err))
                return ()

        max_mb = DEFAULT_MAX_ATTACHMENT_MB
        if raw.get(VAR_MAX_ATTACHMENT_MB):
            try:
                max_mb = float(raw[VAR_MAX_ATTACHMENT_MB])
            except ValueError:
                problems.append(f"{VAR_MAX_ATTACHMENT_MB}: {raw[VAR_MAX_ATTACHMENT_MB]!r} is not a number")
        daily_reports = False
        try:
            daily_reports = as_bool(raw.get(VAR_DAILY_REPORTS), VAR_DAILY_REPORTS)
        except ValueError as err:
            problems.append(str(err))
        base_url = str(raw.get(VAR_BASE_URL) or "")
        if not base_url:
            from airflow.configuration import conf

            base_url = conf.get("api", "base_url", fallback="") or "http://localhost:8080"
        return cls(
            smtp_conn_id=str(raw.get(VAR_SMTP_CONN_ID) or "") or None,
            report_recipients=recipients(VAR_REPORT_RECIPIENTS),
            alert_recipients=recipients(VAR_ALERT_RECIPIENTS),
            slack_conn_id=str(raw.get(VAR_SLACK_CONN_ID) or "") or None,
            from_email=str(raw.get(VAR_FROM) or "") or None,
            max_attachment_bytes=int(max_mb * 1024 * 1024),
            daily_reports=daily_reports,
            base_url=base_url.rstrip("/"),
            problems=tuple(problems),
        )

    def email_to(self, audience: str) -> tuple[str, ...]:
        """The e-mail recipients of ``audience`` (``report`` or ``alert``); empty when e-mail is off."""
        if not self.smtp_conn_id:
            return ()
        return self.report_recipients if audience == "report" else self.alert_recipients

    @property
    def enabled(self) -> bool:
        return bool(self.slack_conn_id or self.email_to("report") or self.email_to("alert"))
