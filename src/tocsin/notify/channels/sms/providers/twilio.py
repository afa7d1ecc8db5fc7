"""Texts through Twilio's Messages API (``notify/providers/twilio.py`` maps its answers).

Sent from a Messaging Service when one is configured (it picks the sender and answers the
carriers' opt-out keywords) or from a number of the account; each text names
``/twilio/status`` as its status callback.
"""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.domain.deliveries import Outcome
from tocsin.notify.providers import twilio


@dataclass(frozen=True)
class TwilioConfig:
    account: twilio.TwilioAccount
    messaging_service_sid: str | None
    from_number: str | None
    status_callback: str


@dataclass(frozen=True)
class Text:
    to: str
    body: str


class TwilioProvider:
    name = "twilio"

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config

    async def send(self, message: Text, *, time_limit: float) -> Outcome:
        sender = (
            {"messaging_service_sid": self.config.messaging_service_sid}
            if self.config.messaging_service_sid
            else {"from_": self.config.from_number}
        )
        return await twilio.create(
            self.config.account,
            lambda client: client.messages.create_async(
                to=message.to,
                body=message.body,
                status_callback=self.config.status_callback,
                **sender,
            ),
            time_limit=time_limit,
        )
