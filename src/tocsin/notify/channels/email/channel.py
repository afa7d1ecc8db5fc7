"""Email: the first real channel (PagerDuty-style HTML and text, one-click actions).

* **sent**: the SMTP server accepted the message for every recipient (250 after DATA),
  or the local outbox stored it.
* **delivered**: only the local outbox reports delivery (it *is* the destination); SMTP
  has no delivery report (bounce webhooks of SES, SendGrid or Postmark come with a
  provider for them).
* **unknown**: the connection timed out or dropped, possibly after DATA was accepted.
  Email is safe to send again: the re-send carries the same ``Message-ID``, which mail
  clients and most servers treat as the same message, so the dispatcher re-sends
  (``resend_after_unknown``) rather than leave a page possibly unsent.

Threading: the first email about an incident to a person carries that person's thread id
for the incident as its ``Message-ID``; every later one refers to it with ``In-Reply-To``
and ``References``, so one incident is one conversation in the mailbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import Notice
from tocsin.notify import wording
from tocsin.notify.channels.base import Provider
from tocsin.notify.channels.email import mime

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutgoingEmail:
    """One mail ready for a provider (what ``EmailChannel.render`` makes): the envelope,
    what the outbox shows, and ``raw``, the whole MIME message (what SMTP sends)."""

    sender: str
    recipient: str
    message_id: str
    subject: str
    text: str
    html: str
    raw: bytes


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # HTML is escaped (titles and descriptions come from monitoring tools); the text
        # part is not HTML and must not be.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        # The templates ship with tocsin and never change while it runs: no stat() of
        # the file on every mail.
        auto_reload=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["local"] = wording.local_time
    environment.filters["priority"] = wording.priority
    environment.filters["colour"] = wording.colour
    return environment


def subject_of(notice: Notice) -> str:
    incidents = notice.incidents
    if notice.purpose is Purpose.PAGE:
        only = incidents[0]
        return (
            f"{wording.escalation_prefix(notice.level)}[{wording.priority(only.severity)}] "
            f"{only.service}: {only.title}"
        )
    if notice.purpose is Purpose.DIGEST:
        worst = wording.highest([incident.severity for incident in incidents])
        where = wording.services_phrase([incident.service for incident in incidents])
        count = wording.incidents_phrase(len(incidents))
        return f"[{wording.priority(worst)}] {count} on {where}"
    if notice.purpose is Purpose.STATUS:
        only = incidents[0]
        return f"[{(notice.event or '').upper()}] {only.service}: {only.title} (#{only.number})"
    if notice.purpose is Purpose.SHIFT:
        return f"Your on-call shift on {notice.schedule} starts now"
    if notice.purpose is Purpose.INVITATION:
        return "You are invited to tocsin: sign in to set up how you are paged"
    return "Confirm your email address for tocsin"


class EmailChannel:
    kind = ChannelKind.EMAIL
    intrusive = False
    supports_interactivity = True
    resend_after_unknown = True

    def __init__(self, providers: Sequence[Provider[OutgoingEmail]], *, sender: str) -> None:
        self._providers = list(providers)
        self.sender = sender
        self._templates = _environment()

    @property
    def providers(self) -> Sequence[Provider[OutgoingEmail]]:
        return self._providers

    def render(self, notice: Notice) -> OutgoingEmail:
        """The mail: the same headers on every attempt, so a re-send after an unknown
        outcome is recognisably the same message."""
        rendered = self.content(notice)
        message_id = notice.message_id or f"<{notice.delivery_id}@tocsin>"
        headers = [
            ("From", f"tocsin <{self.sender}>"),
            ("To", notice.recipient.address),
            ("Date", format_datetime(notice.now)),
            ("Message-ID", message_id),
        ]
        if notice.thread_id and notice.thread_id != notice.message_id:
            headers += [("In-Reply-To", notice.thread_id), ("References", notice.thread_id)]
        # RFC 3834: no vacation auto-replies to pages.
        headers += [
            ("Auto-Submitted", "auto-generated"),
            ("X-Tocsin-Delivery", str(notice.delivery_id)),
        ]
        subject = mime.clean(rendered.subject)[:900]
        raw = mime.multipart_alternative(
            headers,
            subject=subject,
            text=rendered.text,
            html=rendered.html,
            boundary=f"=_tocsin_{notice.delivery_id.hex}",
        )
        return OutgoingEmail(
            sender=self.sender,
            recipient=notice.recipient.address,
            message_id=message_id,
            subject=subject,
            text=rendered.text,
            html=rendered.html,
            raw=raw,
        )

    def content(self, notice: Notice) -> RenderedEmail:
        """Subject, text and HTML of the mail for ``notice`` (golden-tested)."""
        name = notice.purpose.value if notice.purpose is not Purpose.DIGEST else "page"
        values: dict[str, Any] = {
            "notice": notice,
            "subject": subject_of(notice),
            "zone": notice.recipient.time_zone,
            "prefix": wording.escalation_prefix(notice.level).strip(),
            "worst": wording.highest([incident.severity for incident in notice.incidents]),
        }
        return RenderedEmail(
            subject=values["subject"],
            text=self._templates.get_template(f"{name}.txt").render(values),
            html=self._templates.get_template(f"{name}.html").render(values),
        )
