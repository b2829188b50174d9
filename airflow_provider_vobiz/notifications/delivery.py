"""Sending a :class:`~.notice.Notice` through Airflow's notifiers, once, without ever failing a task.

- E-mail goes through the SMTP provider's ``SmtpNotifier`` (the report PDF as an attachment), Slack through
  the Slack provider's ``SlackWebhookNotifier``. Each is used only when its Variable names a connection.
- Once: after a channel accepted a notice, a marker object is written to the lake at
  ``LakeLayout.notification_marker_key(account, topic, digest)``, the digest hashing the notice's identity
  (for a report: its content without run-specific fields), the channel and the recipients. A retried or
  re-run task finds the marker and sends nothing. The marker is written after the send, so a crash between
  the two can repeat a message but never lose one (at-least-once); it is written with ``If-None-Match: *``
  so two writers cannot both record it.
- Never failing: every error (server down, connection refused, bad Variable, lake unreachable for markers)
  is logged as a warning and the task's own outcome stands.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_provider_vobiz.notifications.notice import Notice, digest, scrub

if TYPE_CHECKING:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.storage import LakeStorage
    from airflow_provider_vobiz.notifications.settings import NotifySettings

log = logging.getLogger(__name__)

#: How long one send may take before the task goes on without it: a mail server that accepts connections and
#: never answers would otherwise hold the task for the SMTP connection's timeout times its retries.
SEND_DEADLINE_SECONDS = 60.0


def _within_deadline(send: Callable[[], None], what: str) -> None:
    """Run ``send`` in a daemon thread; raise ``TimeoutError`` if it has not finished by the deadline."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            send()
        except BaseException as err:  # handed to the caller's thread, which logs it
            failure.append(err)

    worker = threading.Thread(target=run, name=f"vobiz-notify-{what}", daemon=True)
    worker.start()
    worker.join(SEND_DEADLINE_SECONDS)
    if worker.is_alive():
        raise TimeoutError(f"the {what} server did not finish within {SEND_DEADLINE_SECONDS:.0f} s")
    if failure:
        raise failure[0]


SENT, DUPLICATE, FAILED = "sent", "already sent", "failed"


class SentMarkers:
    """The lake's record of what was sent (see the module docstring)."""

    def __init__(self, storage: LakeStorage, layout: LakeLayout) -> None:
        self.storage = storage
        self.layout = layout

    def get(self, account_id: str, topic: str, key_digest: str) -> dict[str, Any] | None:
        return self.storage.get_json(self.layout.notification_marker_key(account_id, topic, key_digest))

    def put(self, account_id: str, topic: str, key_digest: str, body: dict[str, Any]) -> bool:
        """Write the marker unless one exists; False when another writer recorded it first."""
        import json

        key = self.layout.notification_marker_key(account_id, topic, key_digest)
        data = json.dumps(body, indent=2, sort_keys=True, default=str).encode()
        try:
            self.storage.put_bytes(key, data, content_type="application/json", IfNoneMatch="*")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                return False
            raise
        return True

    def latest(self, account_id: str, topic: str, *, other_than: str) -> dict[str, Any] | None:
        """The most recent marker of ``topic`` whose identity differs from ``other_than``."""
        found = []
        for obj in self.storage.list_objects(self.layout.notification_prefix(account_id, topic)):
            body = self.storage.get_json(obj["Key"]) or {}
            if body.get("identity") != other_than:
                found.append(body)
        return max(found, key=lambda b: str(b.get("sent_at")), default=None)


class Dispatcher:
    """Send notices on every configured channel, each at most once per identity and recipients.

    :param settings: the resolved configuration.
    :param markers: the lake's record of sent notices; None sends without deduplication (with a warning).
    :param context: the Airflow task context, handed to the notifiers.
    """

    def __init__(
        self, settings: NotifySettings, markers: SentMarkers | None, context: Any | None = None
    ) -> None:
        self.settings = settings
        self.markers = markers
        self.context = context if context is not None else {}

    def channels(self, notice: Notice) -> list[tuple[str, tuple[str, ...]]]:
        """``(channel, recipients)`` pairs configured for the notice's audience."""
        out: list[tuple[str, tuple[str, ...]]] = []
        to = self.settings.email_to(notice.audience)
        if to:
            out.append(("email", to))
        if self.settings.slack_conn_id:
            out.append(("slack", (self.settings.slack_conn_id,)))
        return out

    def deliver(self, notice: Notice, **marker_fields: Any) -> dict[str, str]:
        """Send ``notice``; returns ``{channel: sent | already sent | failed | ...}``. Never raises."""
        results: dict[str, str] = {}
        for channel, recipients in self.channels(notice):
            try:
                results[channel] = self._deliver_one(notice, channel, recipients, marker_fields)
            except Exception as err:  # never fail the task: a warning, and the task's outcome stands
                log.warning(
                    "Notification %r was not sent by %s: %s: %s",
                    scrub(notice.subject),
                    channel,
                    type(err).__name__,
                    scrub(err),
                )
                results[channel] = FAILED
        if not results:
            log.info("Notifications are off for %s messages: %r not sent", notice.audience, notice.subject)
        return results

    def _deliver_one(
        self, notice: Notice, channel: str, recipients: tuple[str, ...], marker_fields: dict[str, Any]
    ) -> str:
        key_digest = digest(notice.identity, channel, sorted(recipients))
        if self.markers is not None:
            try:
                previous = self.markers.get(notice.account_id, notice.topic, key_digest)
            except Exception as err:
                log.warning("Could not read the sent-notifications record (%s); sending anyway", scrub(err))
                previous = None
            if previous is not None:
                log.info(
                    "Not sending %r by %s again: already sent at %s (run %s)",
                    scrub(notice.subject),
                    channel,
                    previous.get("sent_at"),
                    (previous.get("dag_run") or {}).get("run_id"),
                )
                return DUPLICATE
        if channel == "email":
            _within_deadline(lambda: self._send_email(notice, recipients), "mail")
        else:
            _within_deadline(lambda: self._send_slack(notice), "Slack webhook")
        log.info("Sent %r by %s to %d recipient(s)", scrub(notice.subject), channel, len(recipients))
        if self.markers is not None:
            body = {
                "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "channel": channel,
                "recipients": len(recipients),
                "subject": scrub(notice.subject),
                "identity": notice.identity,
                "dag_run": _run_of(self.context),
                **notice.record,
                **marker_fields,
            }
            try:
                self.markers.put(notice.account_id, notice.topic, key_digest, body)
            except Exception as err:
                log.warning("Sent, but could not record it (a retry may send it again): %s", scrub(err))
        return SENT

    def _send_email(self, notice: Notice, to: tuple[str, ...]) -> None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        with tempfile.TemporaryDirectory(prefix="vobiz-mail-") as tmp:
            files = None
            if notice.attachment is not None:
                path = Path(tmp) / notice.attachment.name
                path.write_bytes(notice.attachment.data)
                files = [str(path)]
            notifier = SmtpNotifier(
                to=list(to),
                from_email=self.settings.from_email,
                subject=scrub(notice.subject),
                html_content=notice.html(),
                files=files,
                smtp_conn_id=self.settings.smtp_conn_id,
                custom_headers={"X-Vobiz-Topic": notice.topic},
            )
            # notify() rather than calling the notifier: the body is final text, not a Jinja template.
            notifier.notify(self.context)

    def _send_slack(self, notice: Notice) -> None:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        SlackWebhookNotifier(
            slack_webhook_conn_id=self.settings.slack_conn_id, text=notice.text(), timeout=30
        ).notify(self.context)


def _run_of(context: Any) -> dict[str, str] | None:
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is None:
        return None
    return {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id}
