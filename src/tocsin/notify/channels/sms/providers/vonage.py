"""Texts through Vonage's SMS API, with the ``vonage`` SDK (``notify/providers/vonage.py``).

* status 0 with a ``message-id`` → ``Sent``; the delivery receipt (``/vonage/status``)
  says delivered or failed later.
* 7 (the number is barred: it replied STOP) → permanent, ``opted_out``, the method is
  disabled until START.
* 3, 6, 33 (invalid or unroutable number, deactivated) → permanent, about the number.
* 1 (throttled) → due again in 30 s; 5 and the account's own problems (4 credentials,
  8 and 9 barred or out of credit, 15 sender, 29 a trial account's unlisted number) →
  transient and counted against Vonage's breaker, so texts fail over to Twilio.
* no answer in time → unknown (texts are re-sent after an unknown outcome).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta

import requests
from vonage_http_client.errors import HttpRequestError, RateLimitedError
from vonage_sms import SmsMessage
from vonage_sms.errors import PartialFailureError, SmsError

from tocsin.config import Settings
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.notify.channels.sms.providers.twilio import Text
from tocsin.notify.providers import vonage

OPTED_OUT = 7
BAD_NUMBER = frozenset({3, 6, 33})
THROTTLED = 1
STATUS = re.compile(r"error code (\d+)")


@dataclass(frozen=True)
class VonageConfig:
    api_key: str
    api_secret: str
    sender: str
    status_callback: str
    rest_host: str = "rest.nexmo.com"


def config_of(settings: Settings) -> VonageConfig:
    assert settings.vonage_api_key is not None
    assert settings.vonage_api_secret is not None
    assert settings.vonage_from is not None
    return VonageConfig(
        api_key=settings.vonage_api_key,
        api_secret=settings.vonage_api_secret.get_secret_value(),
        sender=settings.vonage_from.lstrip("+"),
        status_callback=f"{settings.base_url}/vonage/status",
        rest_host=settings.vonage_rest_host,
    )


class VonageProvider:
    name = "vonage"

    def __init__(self, config: VonageConfig) -> None:
        self.config = config
        self._client = vonage.sms_client(config.api_key, config.api_secret, config.rest_host)

    async def send(self, message: Text, *, time_limit: float) -> Outcome:
        sms = SmsMessage(
            to=message.to.lstrip("+"),
            from_=self.config.sender,
            text=message.body,
            status_report_req=True,
            callback=self.config.status_callback,
        )
        try:
            response = await asyncio.wait_for(
                asyncio.to_thread(self._client.sms.send, sms), time_limit
            )
        except TimeoutError:
            return Unknown("Vonage did not answer in time")
        except (SmsError, PartialFailureError) as error:
            return _refused(str(error))
        except RateLimitedError as error:
            return Failed(
                ErrorCode.RATE_LIMITED,
                f"Vonage: {error}"[:500],
                permanent=False,
                retry_after=timedelta(seconds=30),
            )
        except (HttpRequestError, requests.RequestException, OSError) as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"Vonage: {error}"[:500], permanent=False)
        return Sent(provider_message_id=str(response.messages[0].message_id))


def _refused(text: str) -> Failed:
    found = STATUS.search(text)
    status = int(found.group(1)) if found else -1
    detail = f"Vonage: {text}"[:500]
    if status == OPTED_OUT:
        return Failed(
            ErrorCode.OPTED_OUT,
            "the number is barred (it replied STOP)",
            permanent=True,
            provider_fault=False,
            disables_method=True,
        )
    if status in BAD_NUMBER:
        return Failed(ErrorCode.INVALID_ADDRESS, detail, permanent=True, provider_fault=False)
    if status == THROTTLED:
        return Failed(
            ErrorCode.RATE_LIMITED, detail, permanent=False, retry_after=timedelta(seconds=30)
        )
    return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)
