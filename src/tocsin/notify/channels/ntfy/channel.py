"""The ntfy channel: a page is a message published to the person's topic, through ntfy's
JSON publish API (``POST <server>/`` with ``topic`` in the body), with ``httpx``: the API
is one request, and ntfy publishes no client library for Python.

* **sent**: the server answered 200 with the message's ``id``. ntfy reports nothing later.
* 401 or 403 → the topic needs an access token, or refused the one given: permanent, and
  the method is disabled with the reason until its owner adds it again.
* 413 → too large (never, with the message's limits): permanent.
* 429 → due again at ``Retry-After`` (ntfy.sh limits publishing per visitor); 5xx or no
  connection → transient, against the ``ntfy`` circuit breaker.
* **unknown**: no answer in time; re-sent, and the ``sequence_id`` makes a copy replace
  the first on servers that support it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown, retry_after
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import Provider
from tocsin.notify.channels.ntfy import access, message
from tocsin.security.encryption import Cipher


@dataclass(frozen=True)
class Publish:
    server: str
    body: dict[str, Any]
    token: str | None


def split(topic_url: str) -> tuple[str, str]:
    """``https://ntfy.sh/alerts`` → (``https://ntfy.sh``, ``alerts``)."""
    parts = urlsplit(topic_url)
    path, _, topic = parts.path.rpartition("/")
    return f"{parts.scheme}://{parts.netloc}{path}", topic


class NtfyProvider:
    name = "ntfy"

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport

    async def send(self, publish: Publish, *, time_limit: float) -> Outcome:
        headers = {"Content-Type": "application/json"}
        if publish.token:
            headers["Authorization"] = f"Bearer {publish.token}"
        try:
            async with httpx.AsyncClient(timeout=time_limit, transport=self._transport) as client:
                response = await client.post(
                    publish.server + "/", content=json.dumps(publish.body), headers=headers
                )
        except httpx.TimeoutException as error:
            return Unknown(f"ntfy did not answer: {type(error).__name__}")
        except httpx.HTTPError as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"ntfy: {error}", permanent=False)
        if response.status_code == 200:
            try:
                reference = str(response.json().get("id") or "")
            except ValueError:
                reference = ""
            return Sent(provider_message_id=reference or publish.body["topic"])
        detail = f"ntfy {response.status_code}: {response.text[:200]}".strip()
        if response.status_code in (401, 403):
            return Failed(
                ErrorCode.REJECTED,
                f"the ntfy server refused the topic's access token ({response.status_code})",
                permanent=True,
                provider_fault=False,
                disables_method=True,
            )
        if response.status_code == 429:
            wait = retry_after(response.headers.get("retry-after"))
            return Failed(ErrorCode.RATE_LIMITED, detail, permanent=False, retry_after=wait)
        if 400 <= response.status_code < 500:
            return Failed(ErrorCode.REJECTED, detail, permanent=True, provider_fault=False)
        return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)


class NtfyChannel:
    kind = ChannelKind.NTFY
    intrusive = False
    supports_interactivity = True
    resend_after_unknown = True

    def __init__(self, providers: Sequence[Provider[Publish]], cipher: Cipher) -> None:
        self._providers = list(providers)
        self._cipher = cipher

    @property
    def providers(self) -> Sequence[Provider[Publish]]:
        return self._providers

    def render(self, notice: Notice) -> Publish:
        server, topic = split(notice.recipient.address)
        sealed = notice.recipient.method_details.get(access.TOKEN)
        return Publish(
            server=server,
            body=message.publish(notice, topic),
            token=self._cipher.decrypt(sealed) if sealed else None,
        )
