"""What a text sent back to tocsin does, whichever provider carried it: the sender is
matched to a verified SMS method and acts as its person through ``actions/`` ("via SMS"
on the timeline); the answer says what happened. STOP / START / UNSTOP disable or enable
the methods at the number (carriers and providers stop delivery on STOP anyway; tocsin
stops trying) and get no answer from tocsin: the carrier's own confirmation is the one
the law asks for."""

from __future__ import annotations

from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents
from tocsin.clock import Clock
from tocsin.db.session import Database
from tocsin.errors import NotFound, PermissionDenied, StaleTransition
from tocsin.notify import wording
from tocsin.notify.channels.sms import replies, senders

VIA = "sms"


async def answer(database: Database, clock: Clock, sender: str, body: str) -> str | None:
    """The answer to ``body`` from ``sender`` (E.164), or None for STOP and START."""
    parsed = replies.parse(body)
    if parsed is None or parsed.verb is replies.Verb.HELP:
        return replies.HELP
    now = clock.now()
    if parsed.verb in (replies.Verb.STOP, replies.Verb.START):
        async with database.transaction() as session:
            await senders.opt_out(session, sender, stop=parsed.verb is replies.Verb.STOP, now=now)
        return None
    async with database.transaction() as session:
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
        async with database.transaction() as session:
            changed = await change(session, incident_id=incident_id, actor=actor, via=VIA, now=now)
            done = "acknowledged" if parsed.verb is replies.Verb.ACKNOWLEDGE else "resolved"
            return f"tocsin #{changed.number} {done}."
    except StaleTransition as lost:
        return f"tocsin: {wording.already(lost)}."
    except PermissionDenied:
        return "tocsin: you may not change that incident."
    except NotFound:
        return "tocsin: no such incident."
