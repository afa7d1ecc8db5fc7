"""The SMS channel: a page is a text; a reply acts on it (``routes.py``).

* **sent**: the provider accepted the message (Twilio: 201 with a message sid).
* **delivered**: the provider's status callback says the handset got it.
* **unknown**: no answer in time. Texts are re-sent after an unknown outcome
  (``resend_after_unknown``): a possible duplicate text is preferred to a possibly lost
  page; the rate limit of one text a minute per number (``domain/channels.py``) bounds it.

A late failure (the callback says undelivered) fails the sent delivery and releases the
next tier, like any final failure.
"""

from __future__ import annotations

from collections.abc import Sequence

from tocsin.domain.channels import ChannelKind
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import Provider
from tocsin.notify.channels.sms import text
from tocsin.notify.channels.sms.providers.twilio import Text


class SmsChannel:
    kind = ChannelKind.SMS
    intrusive = True
    supports_interactivity = True
    resend_after_unknown = True

    def __init__(self, providers: Sequence[Provider[Text]]) -> None:
        self._providers = list(providers)

    @property
    def providers(self) -> Sequence[Provider[Text]]:
        return self._providers

    def render(self, notice: Notice) -> Text:
        return Text(to=notice.recipient.address, body=text.message(notice))
