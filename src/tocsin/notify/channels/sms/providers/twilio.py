"""Twilio's Messages API through the ``twilio`` library (its asynchronous HTTP client).

* 201 with a message ``sid`` → ``Sent``; Twilio's status callback (``/twilio/status``)
  later says delivered or undelivered.
* error 21610 (the number replied STOP to this sender) → permanent, ``opted_out``, and the
  method is disabled: never texted again until the person replies START.
* 21211, 21614, 21612, 21408 (not a valid or reachable mobile number, or a region not
  enabled) → permanent, about the number, not Twilio.
* 429 → due again at ``Retry-After``; 5xx or no connection → transient, counted against
  Twilio's circuit breaker (SMS fails over to the next provider).
* no answer in time → unknown; texts are re-sent after an unknown outcome (a duplicate
  text is the lesser harm than a lost page).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown

OPTED_OUT = 21610
BAD_NUMBER = frozenset({21211, 21214, 21408, 21612, 21614})


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    # A Messaging Service (preferred: it picks the sender, handles opt-out keywords) or a
    # number of the account.
    messaging_service_sid: str | None
    from_number: str | None
    status_callback: str
    api_url: str = "https://api.twilio.com"


@dataclass(frozen=True)
class Text:
    to: str
    body: str


class TwilioProvider:
    name = "twilio"

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config

    async def send(self, message: Text, *, time_limit: float) -> Outcome:
        http = AsyncTwilioHttpClient(timeout=time_limit)
        client = Client(self.config.account_sid, self.config.auth_token, http_client=http)
        client.api.base_url = self.config.api_url.rstrip("/")
        sender = (
            {"messaging_service_sid": self.config.messaging_service_sid}
            if self.config.messaging_service_sid
            else {"from_": self.config.from_number}
        )
        try:
            created = await asyncio.wait_for(
                client.messages.create_async(
                    to=message.to,
                    body=message.body,
                    status_callback=self.config.status_callback,
                    **sender,
                ),
                time_limit,
            )
        except TwilioRestException as error:
            return _refused(error)
        except (TimeoutError, aiohttp.ServerDisconnectedError) as error:
            return Unknown(f"Twilio did not answer: {type(error).__name__}")
        except (aiohttp.ClientError, TwilioException, OSError) as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"Twilio: {error}", permanent=False)
        finally:
            if http.session is not None:
                await http.session.close()
        return Sent(provider_message_id=str(created.sid))


def _refused(error: TwilioRestException) -> Failed:
    detail = f"Twilio {error.status} {error.code}: {error.msg}"[:500]
    if error.code == OPTED_OUT:
        return Failed(
            ErrorCode.OPTED_OUT,
            "the number replied STOP",
            permanent=True,
            provider_fault=False,
            disables_method=True,
        )
    if error.code in BAD_NUMBER:
        return Failed(ErrorCode.INVALID_ADDRESS, detail, permanent=True, provider_fault=False)
    if error.status == 429:
        return Failed(
            ErrorCode.RATE_LIMITED, detail, permanent=False, retry_after=timedelta(seconds=30)
        )
    if error.status in (401, 403):
        return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)
    if 400 <= error.status < 500:
        return Failed(ErrorCode.REJECTED, detail, permanent=True, provider_fault=False)
    return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)
