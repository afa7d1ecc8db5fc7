"""Twilio's requests about calls: what to say when one is answered, what a key does, and
how the call ended. Each is verified like every Twilio webhook (``X-Twilio-Signature``
over the public URL, ``notify/providers/twilio.py``) and names its delivery in the query.

* ``POST /twilio/voice/answer``: a machine (``AnsweredBy`` machine_… or fax, after its
  greeting: ``DetectMessageEnd``) gets a short voicemail and the delivery fails as
  ``not_answered``; a person hears the page and the keypad menu (``<Gather>``, asked up to
  three times), and the delivery is delivered.
* ``POST /twilio/voice/keys``: 1 acknowledges, 2 resolves, 9 escalates now, 3 repeats;
  what happened is said back, including "already acknowledged by …".
* ``POST /twilio/voice/status``: busy, no-answer, canceled → ``not_answered``; failed →
  rejected; completed → delivered unless a machine took it. A repeated callback, or one
  for a delivery already settled, changes nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from twilio.twiml.voice_response import VoiceResponse
from vonage_voice.models import Input, NccoAction, Talk
from vonage_voice.models.input_types import Dtmf as VonageDtmf

from tocsin.actions.notify import callbacks, tiers
from tocsin.domain.deliveries import ErrorCode
from tocsin.errors import InvalidInput, NotFound
from tocsin.http.context import AppContext, context_of
from tocsin.notify.channels.voice import calls, speech
from tocsin.notify.channels.voice.providers import vonage as vonage_voice
from tocsin.notify.channels.voice.providers.vonage import VonageVoiceProvider
from tocsin.notify.providers import twilio
from tocsin.notify.providers import vonage as vonage_webhooks

router = APIRouter(include_in_schema=False)
TWILIO = "twilio"
VONAGE = "vonage"
NOT_ANSWERED = {"busy": "busy", "no-answer": "no answer", "canceled": "cancelled"}
# How many times the menu is offered when no key is pressed.
ROUNDS = 3
# Seconds Twilio waits for a key after the menu.
KEY_WAIT = 8


def _is_machine(answered_by: str) -> bool:
    return answered_by.startswith("machine") or answered_by == "fax"


def _delivery_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.query_params.get("delivery", ""))
    except ValueError as error:
        raise InvalidInput("delivery", "a call's URL names its delivery") from error


def _round(request: Request) -> int:
    """Which offer of the menu this is (1 to ``ROUNDS``), from the URL tocsin gave."""
    given = request.query_params.get("round", "1")
    return min(max(int(given), 1), ROUNDS) if given.isdigit() and len(given) < 3 else 1


def _url(context: AppContext, action: str, delivery_id: uuid.UUID, **more: int) -> str:
    query = urlencode({"delivery": str(delivery_id), **more})
    return f"{context.settings.base_url}/twilio/voice/{action}?{query}"


def _twiml(answer: VoiceResponse) -> Response:
    return Response(str(answer), media_type="application/xml")


def _said(text: str) -> Response:
    answer = VoiceResponse()
    answer.say(text)
    answer.hangup()
    return _twiml(answer)


async def _call(context: AppContext, delivery_id: uuid.UUID) -> calls.Answered:
    async with context.database.transaction() as session:
        call = await calls.load(session, delivery_id)
    if call is None:
        raise NotFound("call", str(delivery_id))
    return call


async def _settle(
    context: AppContext,
    delivery_id: uuid.UUID,
    form: dict[str, str],
    *,
    delivered: bool,
    error: str | None = None,
    code: ErrorCode = ErrorCode.NOT_ANSWERED,
    provider: str = TWILIO,
    ended: bool = False,
) -> None:
    """Record what the provider said of the call; once it has ``ended``, in the same
    transaction, drop the verification code it was keeping to read aloud."""
    async with context.database.transaction() as session:
        await callbacks.provider_said(
            session,
            provider=provider,
            provider_message_id=form.get("CallSid") or form.get("uuid", ""),
            delivered=delivered,
            error=error,
            ops=tiers.OpsPolicy(context.settings.operations_service),
            now=context.clock.now(),
            delivery_id=delivery_id,
            code=code,
        )
        if ended:
            await calls.forget_code(session, delivery_id)


@router.post("/twilio/voice/answer")
async def answer(request: Request) -> Response:
    context = context_of(request)
    form = await twilio.verified_form(request, context.settings)
    delivery_id = _delivery_id(request)
    call = await _call(context, delivery_id)
    rounds = _round(request)
    if rounds == 1 and _is_machine(form.get("AnsweredBy", "")):
        await _settle(
            context, delivery_id, form, delivered=False, error="an answering machine took the call"
        )
        return _said(call.voicemail())
    if rounds == 1:
        await _settle(context, delivery_id, form, delivered=True)
    if not call.asks:
        return _said(call.words())
    response = VoiceResponse()
    menu = speech.MENU if len(call.incidents) == 1 else speech.DIGEST_MENU
    gather = response.gather(
        num_digits=1, action=_url(context, "keys", delivery_id), method="POST", timeout=KEY_WAIT
    )
    gather.say(f"{call.words()} {menu}")
    if rounds < ROUNDS:
        response.say(speech.NO_KEY)
        response.redirect(_url(context, "answer", delivery_id, round=rounds + 1), method="POST")
    else:
        response.say(f"{speech.NO_KEY} {speech.GOODBYE}")
        response.hangup()
    return _twiml(response)


@router.post("/twilio/voice/keys")
async def keys(request: Request) -> Response:
    context = context_of(request)
    form = await twilio.verified_form(request, context.settings)
    delivery_id = _delivery_id(request)
    call = await _call(context, delivery_id)
    key = speech.KEYS.get(form.get("Digits", ""))
    if key is None or key == speech.REPEAT or (key == speech.ESCALATE and len(call.incidents) > 1):
        response = VoiceResponse()
        if key is None or key == speech.ESCALATE:
            response.say(speech.UNKNOWN_KEY)
        response.redirect(_url(context, "answer", delivery_id, round=2), method="POST")
        return _twiml(response)
    if not call.asks:
        return _said(call.words())
    return _said(await calls.press(context.database, call, key, now=context.clock.now()))


@router.post("/twilio/voice/status")
async def status(request: Request) -> Response:
    context = context_of(request)
    form = await twilio.verified_form(request, context.settings)
    delivery_id = _delivery_id(request)
    state = form.get("CallStatus", "")
    if state == "completed":
        machine = _is_machine(form.get("AnsweredBy", ""))
        error = "an answering machine took the call" if machine else None
        await _settle(context, delivery_id, form, delivered=not machine, error=error, ended=True)
    elif state in NOT_ANSWERED:
        await _settle(
            context,
            delivery_id,
            form,
            delivered=False,
            error=f"Twilio: {NOT_ANSWERED[state]}",
            ended=True,
        )
    elif state == "failed":
        await _settle(
            context,
            delivery_id,
            form,
            delivered=False,
            error=f"Twilio: the call failed {form.get('ErrorCode', '')}".strip(),
            code=ErrorCode.REJECTED,
            ended=True,
        )
    # queued, ringing, in-progress: not the end yet, nothing to record
    return Response(status_code=204)


# Vonage ---------------------------------------------------------------------------------
#
# The same call in Vonage's terms: the NCCO is JSON (``talk`` then ``input`` of one DTMF
# digit), the keys and events arrive as JSON, and every request carries a JWT signed with
# the account's signature secret (``notify/providers/vonage.py``). Machine detection is
# asynchronous: a ``machine`` event moves the call to the voicemail.
VONAGE_NOT_ANSWERED = {
    "busy": "busy",
    "timeout": "no answer",
    "unanswered": "no answer",
    "cancelled": "cancelled",
    "rejected": "rejected",
}


def _ncco(actions: list[NccoAction]) -> JSONResponse:
    return JSONResponse([action.model_dump(by_alias=True, exclude_none=True) for action in actions])


def _vonage_menu(context: AppContext, call: calls.Answered, rounds: int) -> JSONResponse:
    if not call.asks:
        return _ncco([Talk(text=call.words())])
    menu = speech.MENU if len(call.incidents) == 1 else speech.DIGEST_MENU
    keys_url = _vonage_url(context, "keys", call.delivery_id, round=rounds)
    return _ncco(
        [
            Talk(text=f"{call.words()} {menu}", bargeIn=True),
            Input(
                type=["dtmf"],
                dtmf=VonageDtmf(maxDigits=1, timeOut=KEY_WAIT),
                eventUrl=[keys_url],
                eventMethod="POST",
            ),
        ]
    )


def _vonage_url(context: AppContext, action: str, delivery_id: uuid.UUID, **more: int) -> str:
    query = urlencode({"delivery": str(delivery_id), **more})
    return f"{context.settings.base_url}/vonage/voice/{action}?{query}"


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        loaded = json.loads(body or b"{}")
    except ValueError as error:
        raise InvalidInput("body", "a Vonage event is a JSON object") from error
    if not isinstance(loaded, dict):
        raise InvalidInput("body", "a Vonage event is a JSON object")
    return loaded


@router.get("/vonage/voice/answer")
async def vonage_answer(request: Request) -> JSONResponse:
    context = context_of(request)
    await vonage_webhooks.check_voice_jwt(context.settings, request)
    return _vonage_menu(context, await _call(context, _delivery_id(request)), 1)


@router.post("/vonage/voice/keys")
async def vonage_keys(request: Request) -> JSONResponse:
    context = context_of(request)
    event = _json_object(await vonage_webhooks.check_voice_jwt(context.settings, request))
    delivery_id = _delivery_id(request)
    call = await _call(context, delivery_id)
    dtmf = event.get("dtmf")
    digits = str(dtmf.get("digits") or "") if isinstance(dtmf, dict) else ""
    rounds = _round(request)
    if digits:  # someone pressed a key: a person took the call
        found = {"uuid": str(event.get("uuid", ""))}
        await _settle(context, delivery_id, found, delivered=True, provider=VONAGE)
    key = speech.KEYS.get(digits)
    if not digits:
        if rounds >= ROUNDS:
            return _ncco([Talk(text=f"{speech.NO_KEY} {speech.GOODBYE}")])
        return _vonage_menu(context, call, rounds + 1)
    if key is None or key == speech.REPEAT or (key == speech.ESCALATE and len(call.incidents) > 1):
        return _vonage_menu(context, call, rounds)
    if not call.asks:
        return _ncco([Talk(text=call.words())])
    said = await calls.press(context.database, call, key, now=context.clock.now())
    return _ncco([Talk(text=said)])


@router.post("/vonage/voice/events")
async def vonage_events(request: Request) -> Response:
    context = context_of(request)
    event = _json_object(await vonage_webhooks.check_voice_jwt(context.settings, request))
    delivery_id = _delivery_id(request)
    state = str(event.get("status", ""))
    found = {"uuid": str(event.get("uuid", ""))}
    if state == "human":
        await _settle(context, delivery_id, found, delivered=True, provider=VONAGE)
    elif state == "machine":
        call = await _call(context, delivery_id)
        await _settle(
            context,
            delivery_id,
            found,
            delivered=False,
            error="an answering machine took the call",
            provider=VONAGE,
        )
        provider = VonageVoiceProvider(vonage_voice.config_of(context.settings))
        await provider.voicemail(found["uuid"], call.voicemail())
    elif state == "completed":
        await _settle(context, delivery_id, found, delivered=True, provider=VONAGE, ended=True)
    elif state in VONAGE_NOT_ANSWERED:
        await _settle(
            context,
            delivery_id,
            found,
            delivered=False,
            error=f"Vonage: {VONAGE_NOT_ANSWERED[state]}",
            provider=VONAGE,
            ended=True,
        )
    elif state == "failed":
        await _settle(
            context,
            delivery_id,
            found,
            delivered=False,
            error="Vonage: the call failed",
            code=ErrorCode.REJECTED,
            provider=VONAGE,
            ended=True,
        )
    return Response(status_code=204)
