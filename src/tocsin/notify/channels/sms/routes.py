"""Twilio's requests to tocsin: replies to texts, and delivery status callbacks.

Both are verified with ``twilio``'s ``RequestValidator`` over the public URL Twilio was
given (``TOCSIN_PUBLIC_URL`` + the path) and the posted form: a missing or wrong
``X-Twilio-Signature`` is answered 403 and changes nothing.

* ``POST /twilio/sms``: a reply. The sender is matched to a verified SMS method and acts
  as its person through ``actions/`` ("via SMS" on the timeline); the answer is a TwiML
  ``<Message>`` saying what happened. STOP / START / UNSTOP disable or enable the methods
  at the number (carriers and Twilio stop delivery on STOP anyway; tocsin stops trying).
* ``POST /twilio/status``: ``delivered`` marks the delivery delivered; ``undelivered`` or
  ``failed`` fails it, which releases the next tier.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from twilio.twiml.messaging_response import MessagingResponse

from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents
from tocsin.actions.notify import callbacks, tiers
from tocsin.errors import InvalidInput, NotFound, PermissionDenied, StaleTransition
from tocsin.http.context import AppContext, context_of
from tocsin.notify import wording
from tocsin.notify.channels.sms import replies, senders
from tocsin.notify.providers import twilio

router = APIRouter(include_in_schema=False)
VIA = "sms"
FAILED_STATUSES = {"undelivered", "failed"}


async def _verified_form(request: Request) -> dict[str, str]:
    return await twilio.verified_form(request, context_of(request).settings)


def _twiml(text: str) -> Response:
    answer = MessagingResponse()
    answer.message(text)
    return Response(str(answer), media_type="application/xml")


@router.post("/twilio/sms")
async def reply(request: Request) -> Response:
    form = await _verified_form(request)
    sender = form.get("From", "")
    if not sender:
        raise InvalidInput("From", "a reply names its sender")
    parsed = replies.parse(form.get("Body", ""))
    context = context_of(request)
    now = context.clock.now()
    if parsed is None or parsed.verb is replies.Verb.HELP:
        return _twiml(replies.HELP)
    if parsed.verb in (replies.Verb.STOP, replies.Verb.START):
        async with context.database.transaction() as session:
            await senders.opt_out(session, sender, stop=parsed.verb is replies.Verb.STOP, now=now)
        # Twilio's own opt-out handling answers STOP and START to the person.
        return Response("<Response/>", media_type="application/xml")
    return _twiml(await _act(context, sender, parsed))


async def _act(context: AppContext, sender: str, parsed: replies.Reply) -> str:
    now = context.clock.now()
    async with context.database.transaction() as session:
        people = await senders.people_at(session, sender)
        if len(people) != 1:
            return (
                "tocsin does not know this number. Add it to your profile to answer pages."
                if not people
                else "This number belongs to several tocsin people: answer on the web."
            )
        actor = Actor(await principals.user_principal(session, people[0]), None, "SMS")
        if parsed.number is not None:
            incident_id = await senders.incident_by_number(session, parsed.number)
            if incident_id is None:
                return f"tocsin: no incident #{parsed.number}."
        else:
            open_ones = await senders.only_open_incident_texted(session, sender)
            if len(open_ones) != 1:
                return (
                    "tocsin: no open incident paged you."
                    if not open_ones
                    else "tocsin: several incidents are open: reply 1234A with the number."
                )
            incident_id = open_ones[0]
    change = incidents.acknowledge if parsed.verb is replies.Verb.ACKNOWLEDGE else incidents.resolve
    try:
        async with context.database.transaction() as session:
            changed = await change(session, incident_id=incident_id, actor=actor, via=VIA, now=now)
            done = "acknowledged" if parsed.verb is replies.Verb.ACKNOWLEDGE else "resolved"
            return f"tocsin #{changed.number} {done}."
    except StaleTransition as lost:
        return f"tocsin: {wording.already(lost)}."
    except PermissionDenied:
        return "tocsin: you may not change that incident."
    except NotFound:
        return "tocsin: no such incident."


@router.post("/twilio/status")
async def status(request: Request) -> Response:
    form = await _verified_form(request)
    sid, state = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid:
        raise InvalidInput("MessageSid", "a status callback names its message")
    if state not in FAILED_STATUSES and state != "delivered":
        return Response(status_code=204)  # queued, sent, …: nothing to record
    context = context_of(request)
    now = context.clock.now()
    async with context.database.transaction() as session:
        await callbacks.provider_said(
            session,
            provider="twilio",
            provider_message_id=sid,
            delivered=state == "delivered",
            error=f"Twilio: {state} {form.get('ErrorCode', '')}".strip(),
            ops=tiers.OpsPolicy(context.settings.operations_service),
            now=now,
        )
    return Response(status_code=204)
