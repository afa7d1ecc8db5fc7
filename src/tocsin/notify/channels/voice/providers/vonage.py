"""Calls through Vonage's Voice API (``notify/providers/vonage.py`` holds the client).

A call names both its URLs with the delivery, as with Twilio: Vonage fetches
``/vonage/voice/answer`` for the NCCO once the call is picked up, and posts the call's
events to ``/vonage/voice/events``. Answering machine detection runs alongside
(``detect_beep``, ``continue``): a ``machine`` event, after the greeting's beep, makes
tocsin move the call to a short voicemail.

* 201 with a call ``uuid`` → ``Sent``.
* 401/403 (the application's key), 429, 5xx, no connection → transient, against Vonage's
  breaker: calls fail over to Twilio.
* other 4xx (a number Vonage cannot call) → permanent, about the number.
* no answer in time → unknown; a call is never placed twice on a guess.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import requests
from vonage_http_client.errors import HttpRequestError
from vonage_voice.models import (
    AdvancedMachineDetection,
    CreateCallRequest,
    Phone,
    Talk,
    ToPhone,
)

from tocsin.config import Settings
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.notify.channels.voice.channel import Call
from tocsin.notify.providers import vonage

RING_SECONDS = 25


@dataclass(frozen=True)
class VonageVoiceConfig:
    application_id: str
    private_key: str
    from_number: str
    public_url: str
    api_host: str = "api.nexmo.com"


def config_of(settings: Settings) -> VonageVoiceConfig:
    assert settings.vonage_application_id is not None
    assert settings.vonage_private_key is not None
    assert settings.vonage_from is not None
    return VonageVoiceConfig(
        application_id=settings.vonage_application_id,
        private_key=settings.vonage_private_key.get_secret_value(),
        from_number=settings.vonage_from,
        public_url=settings.base_url,
        api_host=settings.vonage_api_host,
    )


def answer_url(public_url: str, call: Call) -> str:
    return f"{public_url}/vonage/voice/answer?delivery={call.delivery_id}"


def events_url(public_url: str, call: Call) -> str:
    return f"{public_url}/vonage/voice/events?delivery={call.delivery_id}"


class VonageVoiceProvider:
    name = "vonage"

    def __init__(self, config: VonageVoiceConfig) -> None:
        self.config = config
        self._client = vonage.voice_client(
            config.application_id, config.private_key, config.api_host
        )

    async def send(self, message: Call, *, time_limit: float) -> Outcome:
        request = CreateCallRequest(
            to=[ToPhone(number=message.to.lstrip("+"))],
            from_=Phone(number=self.config.from_number.lstrip("+")),
            answer_url=[answer_url(self.config.public_url, message)],
            answer_method="GET",
            event_url=[events_url(self.config.public_url, message)],
            event_method="POST",
            advanced_machine_detection=AdvancedMachineDetection(
                behavior="continue", mode="detect_beep"
            ),
            ringing_timer=RING_SECONDS,
        )
        try:
            created = await asyncio.wait_for(
                asyncio.to_thread(self._client.voice.create_call, request), time_limit
            )
        except TimeoutError:
            return Unknown("Vonage did not answer in time")
        except HttpRequestError as error:
            status = int(getattr(getattr(error, "response", None), "status_code", 0) or 0)
            detail = f"Vonage {status}: {error}"[:500]
            if 400 <= status < 500 and status not in (401, 403, 429):
                return Failed(ErrorCode.REJECTED, detail, permanent=True, provider_fault=False)
            return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)
        except (requests.RequestException, OSError) as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"Vonage: {error}"[:500], permanent=False)
        return Sent(provider_message_id=str(created.uuid))

    async def voicemail(self, call_uuid: str, words: str) -> None:
        """Move a call a machine answered to a short voicemail (Vonage's ``transfer``)."""
        await asyncio.to_thread(
            self._client.voice.transfer_call_ncco, call_uuid, [Talk(text=words)]
        )
