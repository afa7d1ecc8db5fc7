"""Twilio, for every channel it carries (SMS, voice): one REST call, its answer mapped to an
outcome, and the check of what Twilio posts back.

* 201 with a ``sid`` → ``Sent`` (the sid is the provider message id); Twilio's status
  callback later says what became of it.
* error 21610 (the number replied STOP to this sender) → permanent, ``opted_out``, and the
  method is disabled until the person replies START.
* 21211, 21214, 21408, 21612, 21614, 13223, 13224 (not a valid or reachable number, or a
  region not enabled) → permanent, about the number, not Twilio.
* 429 → due again after 30 s; 5xx, 401/403 or no connection → transient, counted against
  Twilio's circuit breaker.
* no answer in time → unknown (what follows is the channel's ``resend_after_unknown``).

Every request Twilio makes to tocsin is signed (``X-Twilio-Signature``) over the public URL
it was given and the posted form; ``verified_form`` checks it with ``twilio``'s own
``RequestValidator``: a missing or wrong signature is refused and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from starlette.requests import Request
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tocsin.config import Settings
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.errors import PermissionDenied

OPTED_OUT = 21610
BAD_NUMBER = frozenset({21211, 21214, 21408, 21612, 21614, 13223, 13224})
# The largest form Twilio posts (a call's status callback) has some 40 fields.
MAX_FIELDS = 200


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str
    auth_token: str
    api_url: str = "https://api.twilio.com"


def account_of(settings: Settings) -> TwilioAccount:
    assert settings.twilio_account_sid is not None
    assert settings.twilio_auth_token is not None
    return TwilioAccount(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        api_url=settings.twilio_api_url,
    )


async def create(
    account: TwilioAccount, make: Callable[[Client], Awaitable[Any]], *, time_limit: float
) -> Outcome:
    """Create one resource (a message, a call) with ``make`` and map Twilio's answer."""
    http = AsyncTwilioHttpClient(timeout=time_limit)
    client = Client(account.account_sid, account.auth_token, http_client=http)
    client.api.base_url = account.api_url.rstrip("/")
    try:
        created = await asyncio.wait_for(make(client), time_limit)
    except TwilioRestException as error:
        return refused(error)
    except (TimeoutError, aiohttp.ServerDisconnectedError) as error:
        return Unknown(f"Twilio did not answer: {type(error).__name__}")
    except (aiohttp.ClientError, TwilioException, OSError) as error:
        return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"Twilio: {error}", permanent=False)
    finally:
        if http.session is not None:
            await http.session.close()
    return Sent(provider_message_id=str(created.sid))


def refused(error: TwilioRestException) -> Failed:
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


async def verified_form(request: Request, settings: Settings) -> dict[str, str]:
    """The form Twilio posted, once its signature over the public URL (``base_url`` + the
    request's path and query) is checked; ``PermissionDenied`` (403) for anything else."""
    if settings.twilio_auth_token is None:
        raise PermissionDenied("Twilio is not set up on this tocsin")
    auth_token = settings.twilio_auth_token.get_secret_value()
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as error:
        raise PermissionDenied("not a form Twilio signed") from error
    form = dict(pairs)
    url = settings.base_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not RequestValidator(auth_token).validate(url, form, signature):
        raise PermissionDenied("X-Twilio-Signature does not match this request")
    return form
