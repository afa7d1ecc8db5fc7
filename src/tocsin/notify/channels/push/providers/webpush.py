"""A push through the subscription's push service (FCM for Chrome, Mozilla's for Firefox,
Apple's for Safari), encrypted (aes128gcm) and signed (VAPID) by ``pywebpush``.

* 201 (or 200/202) → ``Sent``: the push service took it; it reports nothing later.
* 404 or 410 → the subscription is gone (the app was uninstalled, the browser's data
  cleared): permanent, and the method is disabled with the reason, so its owner sees it
  and their other methods carry the page.
* 403 → the subscription was made for another VAPID key (the key changed): the same.
* 413 → too large (never, with the payload's limits): permanent.
* 429 → due again at ``Retry-After``; 5xx or no connection → transient, against the
  ``webpush`` circuit breaker.
* no answer in time → unknown, re-sent: the same ``Topic`` and ``tag`` make a second copy
  replace the first on the device.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import aiohttp
from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException

from tocsin.domain import deliveries
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.notify.channels.push.payload import PushMessage

# How long a VAPID signature is valid; push services refuse more than 24 h.
SIGNATURE_SECONDS = 12 * 60 * 60
GONE = {404, 410}


class WebPushProvider:
    name = "webpush"

    def __init__(self, vapid: Vapid, subject: str) -> None:
        self._vapid = vapid
        self._subject = subject

    def _headers(self, message: PushMessage) -> dict[str, str]:
        parts = urlsplit(message.endpoint)
        claims = {
            "sub": self._subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + SIGNATURE_SECONDS,
        }
        signed: dict[str, str] = self._vapid.sign(claims)
        return {**signed, "Urgency": message.urgency, "Topic": message.topic}

    async def send(self, message: PushMessage, *, time_limit: float) -> Outcome:
        subscription = {
            "endpoint": message.endpoint,
            "keys": {"p256dh": message.p256dh, "auth": message.auth},
        }
        data = json.dumps(message.payload, separators=(",", ":")).encode()
        try:
            async with aiohttp.ClientSession() as session:
                pusher = WebPusher(subscription, aiohttp_session=session)
                response = await asyncio.wait_for(
                    pusher.send_async(
                        data,
                        self._headers(message),
                        ttl=message.ttl,
                        timeout=aiohttp.ClientTimeout(total=time_limit),
                    ),
                    time_limit,
                )
                assert isinstance(response, aiohttp.ClientResponse)
                status, retry_after = response.status, response.headers.get("Retry-After")
                location = response.headers.get("Location", "")
                text = (await response.text())[:200]
        except (TimeoutError, aiohttp.ServerDisconnectedError) as error:
            return Unknown(f"the push service did not answer: {type(error).__name__}")
        except (aiohttp.ClientError, OSError) as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"push service: {error}", permanent=False)
        except (WebPushException, ValueError) as error:
            # The subscription's keys cannot encrypt (they were checked when it was made).
            return Failed(ErrorCode.INVALID_ADDRESS, f"push subscription: {error}", permanent=True)
        if status in (200, 201, 202):
            return Sent(provider_message_id=location[:512] or message.topic)
        return _refused(status, text, retry_after)


def _refused(status: int, text: str, retry_after: str | None) -> Failed:
    detail = f"push service {status}: {text}".strip()
    if status in GONE:
        return Failed(
            ErrorCode.INVALID_ADDRESS,
            f"the browser's push subscription ended ({status})",
            permanent=True,
            provider_fault=False,
            disables_method=True,
        )
    if status == 403:
        return Failed(
            ErrorCode.INVALID_ADDRESS,
            "the subscription was made for another VAPID key: enable push on the device again",
            permanent=True,
            provider_fault=False,
            disables_method=True,
        )
    if status == 429:
        return Failed(
            ErrorCode.RATE_LIMITED,
            detail,
            permanent=False,
            retry_after=deliveries.retry_after(retry_after),
        )
    if 400 <= status < 500:
        return Failed(ErrorCode.REJECTED, detail, permanent=True, provider_fault=False)
    return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)
