"""A real SMTP server (aiosmtpd) and a Slack incoming-webhook endpoint on free loopback ports.

:class:`MailSink` is also what ``make demo`` uses to show the mails it would have sent; the pytest fixtures
are in ``tests/fixtures/mail.py``.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.servers import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self) -> str:
        part = self.message.get_body(preferencelist=("html", "plain"))
        return part.get_content() if part is not None else ""

    def attachments(self) -> dict[str, bytes]:
        return {p.get_filename(): p.get_payload(decode=True) for p in self.message.iter_attachments()}


@dataclass
class MailSink:
    """An SMTP server on 127.0.0.1 that keeps every message (and, with ``save_to``, writes ``.eml`` copies)."""

    save_to: Path | None = None
    port: int = 0
    received: list[Received] = field(default_factory=list)

    def start(self) -> MailSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                sink.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
                if sink.save_to is not None:
                    sink.save_to.mkdir(parents=True, exist_ok=True)
                    (sink.save_to / f"{len(sink.received):03d}.eml").write_bytes(envelope.content)
                return "250 Message accepted for delivery"

        self.port = self.port or free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def conn_json(self, from_email: str = "vobiz-reports@example.test") -> str:
        """An Airflow ``smtp`` connection to this server (plain SMTP on loopback: no TLS, one try)."""
        return smtp_conn_json(self.port, from_email)


def smtp_conn_json(port: int, from_email: str = "vobiz-reports@example.test") -> str:
    extra = {
        "disable_ssl": True,
        "disable_tls": True,
        "from_email": from_email,
        "retry_limit": 0,
        "timeout": 5,
    }
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra})


@dataclass
class WebhookSink:
    """A local HTTP endpoint standing in for Slack's incoming webhooks (answers ``ok`` like Slack)."""

    posts: list[dict] = field(default_factory=list)

    def start(self) -> WebhookSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.posts.append({"path": self.path, "json": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/services/T000/B000/XXXXXXXX"

    def conn_json(self) -> str:
        """An Airflow ``slackwebhook`` connection whose password is the webhook URL."""
        return json.dumps({"conn_type": "slackwebhook", "password": self.url})

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
