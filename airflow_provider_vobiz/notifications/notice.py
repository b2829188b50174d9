"""A message, channel-neutral: what it says (:class:`Notice`), how it renders for mail and Slack, and the
formatting of the figures in it (no Airflow here but the secrets masker).

Every string a notice shows goes through :func:`scrub` when it is rendered, so no full phone number (the
masking of the HTML reports, :func:`~airflow_provider_vobiz.privacy.mask_text`) and no registered secret
reaches a mail or a Slack post, whatever an exception message or a check name carried.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vobiz.privacy import mask_text


def scrub(text: Any) -> str:
    """``text`` as a message may show it: phone numbers masked to their last four digits
    (:func:`~airflow_provider_vobiz.privacy.mask_text`) and the secrets Airflow's masker knows hidden.

    The two together are the rule for anything leaving by mail or Slack, where neither the report's masking
    nor the log's redaction applies on its own.
    """
    from airflow.sdk.log import redact

    return str(redact(mask_text(str(text))))


def digest(*parts: Any) -> str:
    """A stable sha256 hex of JSON-able parts (sorted keys)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    content_type: str = "application/pdf"


@dataclass
class Notice:
    """One message, channel-neutral.

    :param audience: ``report`` (report recipients) or ``alert`` (alert recipients).
    :param account_id: the account it is about (markers live under it).
    :param topic: what it is about, as a lake marker topic (``trai_summary/period=2026-10``, ``ingest``).
    :param identity: what makes two notices the same notice; hashed with the recipients into the marker.
    :param record: what the marker keeps about it (report hash, inputs, status), for later replacements.
    """

    audience: str
    account_id: str
    topic: str
    subject: str
    intro: str
    identity: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    attachment: Attachment | None = None
    record: dict[str, Any] = field(default_factory=dict)

    def html(self) -> str:
        e: Callable[[Any], str] = lambda v: html.escape(scrub(v))  # noqa: E731
        rows = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in self.facts)
        parts = [f"<p>{e(self.intro)}</p>"]
        if rows:
            parts.append(f"<table cellpadding='4'>{rows}</table>")
        for heading, items in self.sections:
            lis = "".join(f"<li>{e(i)}</li>" for i in items)
            parts.append(f"<h3>{e(heading)}</h3><ul>{lis}</ul>")
        if self.links:
            lis = "".join(
                f"<li><a href='{html.escape(u, quote=True)}'>{e(t)}</a></li>" for t, u in self.links
            )
            parts.append(f"<h3>Links</h3><ul>{lis}</ul>")
        if self.attachment is not None:
            parts.append(f"<p>Attached: {e(self.attachment.name)}</p>")
        parts.append(
            "<p><small>Sent by airflow-provider-vobiz. Phone numbers show only their last four digits.</small></p>"
        )
        return "<html><body>" + "".join(parts) + "</body></html>"

    def text(self) -> str:
        """Plain text (Slack): subject, intro, facts, sections, links."""
        lines = [f"*{scrub(self.subject)}*", scrub(self.intro)]
        lines += [f"• {scrub(k)}: {scrub(v)}" for k, v in self.facts]
        for heading, items in self.sections:
            lines.append(f"_{scrub(heading)}_")
            lines += [f"  – {scrub(i)}" for i in items]
        lines += [f"<{u}|{scrub(t)}>" for t, u in self.links]
        return "\n".join(lines)


# -- formatting ---------------------------------------------------------------------------------------------
def fmt_int(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def fmt_pct(v: Any) -> str:
    return "–" if v is None else f"{float(v) * 100:.2f}%"


def fmt_num(v: Any, digits: int = 2) -> str:
    return "–" if v is None else f"{float(v):,.{digits}f}"


def fmt_inr(v: Any) -> str:
    return "–" if v is None else f"₹{float(v):,.2f}"


def list_days(values: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
