"""Vonage, for every channel it carries (SMS, voice): the SDK's client for each API, and
the checks of what Vonage sends back.

The ``vonage`` SDK is synchronous (``requests``): calls run in a worker thread, bounded by
the send's time limit. Its own retries are turned off: retrying is the dispatcher's, on
its schedule.

Vonage signs its webhooks two ways. The SMS API's carry ``sig`` over the parameters
(``Auth.check_signature``) and a ``timestamp``; the Voice API's carry a JWT in
``Authorization: Bearer``, signed (HS256) with the account's signature secret, whose
``payload_hash`` is the SHA-256 of the body. Both are checked here; both must be at most
five minutes old.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Literal

import jwt
from starlette.requests import Request
from vonage import Auth, HttpClientOptions, Vonage
from vonage_jwt.verify_jwt import verify_signature

from tocsin.config import Settings
from tocsin.errors import PermissionDenied

SIGNATURE_WINDOW = 300
SignatureMethod = Literal["md5", "sha1", "sha256", "sha512"]


def sms_client(api_key: str, api_secret: str, rest_host: str) -> Vonage:
    options = HttpClientOptions(rest_host=rest_host, max_retries=0, timeout=30)
    return Vonage(Auth(api_key, api_secret), options)


def voice_client(application_id: str, private_key: str, api_host: str) -> Vonage:
    options = HttpClientOptions(api_host=api_host, max_retries=0, timeout=30)
    return Vonage(Auth(application_id=application_id, private_key=private_key), options)


def signature_checker(settings: Settings) -> Auth | None:
    """What checks the SMS API's signed webhooks, when a signature secret is set."""
    if settings.vonage_api_key is None or settings.vonage_signature_secret is None:
        return None
    method: SignatureMethod = settings.vonage_signature_method
    return Auth(
        api_key=settings.vonage_api_key,
        signature_secret=settings.vonage_signature_secret.get_secret_value(),
        signature_method=method,
    )


def check_params(settings: Settings, params: dict[str, str]) -> None:
    """``PermissionDenied`` unless the SMS API signed ``params`` in the last five minutes."""
    checker = signature_checker(settings)
    if checker is None:
        raise PermissionDenied("Vonage signed webhooks are not set up on this tocsin")
    try:
        age = abs(time.time() - int(params.get("timestamp", "")))
    except ValueError as error:
        raise PermissionDenied("a signed Vonage request carries its timestamp") from error
    if age > SIGNATURE_WINDOW or not checker.check_signature(dict(params)):
        raise PermissionDenied("the Vonage signature does not match this request")


async def check_voice_jwt(settings: Settings, request: Request) -> bytes:
    """The body of a Voice API webhook, once its JWT is checked; ``PermissionDenied``
    otherwise."""
    if settings.vonage_signature_secret is None:
        raise PermissionDenied("Vonage signed webhooks are not set up on this tocsin")
    secret = settings.vonage_signature_secret.get_secret_value()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    body = await request.body()
    try:
        if scheme.lower() != "bearer" or not verify_signature(token, secret):
            raise PermissionDenied("the Vonage signature does not match this request")
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except PermissionDenied:
        raise
    except Exception as error:  # the SDK wraps every decoding failure in its own error
        raise PermissionDenied("the Vonage signature does not match this request") from error
    if abs(time.time() - float(claims.get("iat", 0))) > SIGNATURE_WINDOW:
        raise PermissionDenied("the Vonage signature is too old")
    if body and not hmac.compare_digest(
        str(claims.get("payload_hash", "")), hashlib.sha256(body).hexdigest()
    ):
        raise PermissionDenied("the Vonage signature is for another body")
    return body
