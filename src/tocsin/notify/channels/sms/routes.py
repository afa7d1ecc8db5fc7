"""What the SMS providers send tocsin: replies to texts, and delivery reports. Each is
verified before anything is read, and a request that fails the check is answered 403 and
changes nothing; what a reply does is ``answers.py``.

Twilio (verified with ``twilio``'s ``RequestValidator`` over the public URL it was given
and the posted form):

* ``POST /twilio/sms``: a reply, answered inline with a TwiML ``<Message>``.
* ``POST /twilio/status``: ``delivered`` marks the delivery delivered; ``undelivered`` or
  ``failed`` fails it, which releases the next tier.

Vonage (signed webhooks: ``sig`` over the parameters with the account's signature
secret, checked by ``vonage``'s own ``Auth.check_signature``, and a ``timestamp`` within
five minutes; GET, form POST or JSON POST, as the dashboard is set):

* ``/vonage/sms``: a reply; Vonage does not read an inline answer, so it is sent back as a
  text through Vonage.
* ``/vonage/status``: a delivery receipt, ``delivered`` / ``failed`` / ``rejected`` /
  ``expired`` as for Twilio.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from twilio.twiml.messaging_response import MessagingResponse

from tocsin.actions.notify import callbacks, tiers
from tocsin.errors import InvalidInput, PermissionDenied
from tocsin.http.context import AppContext, context_of
from tocsin.notify.channels.sms import answers
from tocsin.notify.channels.sms.providers import vonage
from tocsin.notify.channels.sms.providers.twilio import Text
from tocsin.notify.providers import twilio
from tocsin.notify.providers import vonage as vonage_webhooks

router = APIRouter(include_in_schema=False)
TWILIO_FAILED = {"undelivered", "failed"}
VONAGE_FAILED = {"failed", "rejected", "expired"}


async def _delivery_report(
    context: AppContext, *, provider: str, message_id: str, delivered: bool, error: str
) -> None:
    async with context.database.transaction() as session:
        await callbacks.provider_said(
            session,
            provider=provider,
            provider_message_id=message_id,
            delivered=delivered,
            error=error,
            ops=tiers.OpsPolicy(context.settings.operations_service),
            now=context.clock.now(),
        )


@router.post("/twilio/sms")
async def twilio_reply(request: Request) -> Response:
    context = context_of(request)
    form = await twilio.verified_form(request, context.settings)
    sender = form.get("From", "")
    if not sender:
        raise InvalidInput("From", "a reply names its sender")
    said = await answers.answer(context.database, context.clock, sender, form.get("Body", ""))
    if said is None:
        # Twilio's own opt-out handling answers STOP and START to the person.
        return Response("<Response/>", media_type="application/xml")
    twiml = MessagingResponse()
    twiml.message(said)
    return Response(str(twiml), media_type="application/xml")


@router.post("/twilio/status")
async def twilio_status(request: Request) -> Response:
    context = context_of(request)
    form = await twilio.verified_form(request, context.settings)
    sid, state = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid:
        raise InvalidInput("MessageSid", "a status callback names its message")
    if state in TWILIO_FAILED or state == "delivered":
        await _delivery_report(
            context,
            provider="twilio",
            message_id=sid,
            delivered=state == "delivered",
            error=f"Twilio: {state} {form.get('ErrorCode', '')}".strip(),
        )
    return Response(status_code=204)  # queued, sent, …: nothing to record


async def _vonage_params(request: Request) -> dict[str, str]:
    """The webhook's parameters, once their signature and age are checked."""
    params = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        try:
            if request.headers.get("content-type", "").startswith("application/json"):
                loaded = json.loads(body)
                if not isinstance(loaded, dict):
                    raise ValueError("not an object")
                params |= {str(key): str(value) for key, value in loaded.items()}
            else:
                params |= dict(parse_qsl(body.decode("utf-8"), max_num_fields=100))
        except (UnicodeDecodeError, ValueError) as error:
            raise PermissionDenied("not a request Vonage signed") from error
    vonage_webhooks.check_params(context_of(request).settings, params)
    return params


@router.api_route("/vonage/sms", methods=["GET", "POST"])
async def vonage_reply(request: Request) -> Response:
    context = context_of(request)
    params = await _vonage_params(request)
    sender = "+" + params.get("msisdn", "").lstrip("+")
    if sender == "+":
        raise InvalidInput("msisdn", "a reply names its sender")
    said = await answers.answer(context.database, context.clock, sender, params.get("text", ""))
    if said is not None:
        provider = vonage.VonageProvider(vonage.config_of(context.settings))
        await provider.send(Text(to=sender, body=said), time_limit=10)
    return Response(status_code=204)


@router.api_route("/vonage/status", methods=["GET", "POST"])
async def vonage_status(request: Request) -> Response:
    context = context_of(request)
    params = await _vonage_params(request)
    message_id, state = params.get("messageId", ""), params.get("status", "")
    if not message_id:
        raise InvalidInput("messageId", "a delivery receipt names its message")
    if state in VONAGE_FAILED or state == "delivered":
        await _delivery_report(
            context,
            provider="vonage",
            message_id=message_id,
            delivered=state == "delivered",
            error=f"Vonage: {state} {params.get('err-code', '')}".strip(),
        )
    return Response(status_code=204)
