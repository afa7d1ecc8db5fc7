"""Calls through Twilio's Calls API (``notify/providers/twilio.py`` maps its answers).

A call is placed from a number of the account with answering machine detection
(``DetectMessageEnd``: on a machine, Twilio waits for the greeting to end, so the
voicemail is heard whole). Both URLs name the delivery: ``/twilio/voice/answer`` is asked
what to say once the call is picked up, and ``/twilio/voice/status`` hears how it ended,
even when tocsin never learnt the call's sid (the create timed out).
"""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.domain.deliveries import Outcome
from tocsin.notify.channels.voice.channel import Call
from tocsin.notify.providers import twilio

# How long the phone rings before Twilio gives up ("no-answer"): long enough to wake up
# and find it, short of most carriers' forwarding to voicemail (about 25-30 s).
RING_SECONDS = 25


@dataclass(frozen=True)
class TwilioVoiceConfig:
    account: twilio.TwilioAccount
    from_number: str
    public_url: str


def answer_url(public_url: str, call: Call) -> str:
    return f"{public_url}/twilio/voice/answer?delivery={call.delivery_id}"


def status_url(public_url: str, call: Call) -> str:
    return f"{public_url}/twilio/voice/status?delivery={call.delivery_id}"


class TwilioVoiceProvider:
    name = "twilio"

    def __init__(self, config: TwilioVoiceConfig) -> None:
        self.config = config

    async def send(self, message: Call, *, time_limit: float) -> Outcome:
        return await twilio.create(
            self.config.account,
            lambda client: client.calls.create_async(
                to=message.to,
                from_=self.config.from_number,
                url=answer_url(self.config.public_url, message),
                status_callback=status_url(self.config.public_url, message),
                machine_detection="DetectMessageEnd",
                timeout=RING_SECONDS,
            ),
            time_limit=time_limit,
        )
