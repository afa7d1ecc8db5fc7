"""One-click Acknowledge and Resolve links in email.

A link is 32 random bytes (256 bits), of which only the SHA-256 is stored, bound to its
recipient, one action and one incident (or a digest, whose incidents it covers). Opening
it changes nothing (mail scanners prefetch links): ``inspect`` only reads. Pressing the
button calls ``use``, which consumes the token with a conditional UPDATE and acts as the
recipient in the same transaction: if the action fails, the transaction rolls back and the
token is still unused; if two clicks race, one UPDATE matches and the other is told the
link was used.

A link acts only for its recipient: whoever is signed in in the browser that opens it (a
forwarded mail, a shared screen) is refused by the page and by the button alike, and is
offered the incident page to act as themselves instead of borrowing the recipient's name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.actions.incidents import incidents
from tocsin.actions.notify import statements
from tocsin.db import driver
from tocsin.db.models.deliveries import Delivery, MagicLink
from tocsin.db.models.incidents import Incident
from tocsin.db.models.users import User
from tocsin.domain.deliveries import DeliveryStatus
from tocsin.domain.incidents import CAN_ACKNOWLEDGE, CAN_RESOLVE
from tocsin.errors import StaleTransition
from tocsin.security import tokens

VIA = "email"


class LinkAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class LinkState(StrEnum):
    USABLE = "usable"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    FOREIGN = "foreign"


@dataclass(frozen=True)
class Inspected:
    state: LinkState
    link: MagicLink | None = None
    recipient: User | None = None
    incidents: tuple[Incident, ...] = ()


class Issuer:
    """Links minted for a batch of deliveries, inserted in one statement (``insert``) in
    the transaction that marks the deliveries ``sending``: a link in a mail always exists
    in the database once the mail can go out."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._rows: list[dict[str, object]] = []

    def issue(
        self,
        *,
        action: LinkAction,
        user_id: uuid.UUID,
        expires_at: datetime,
        incident_id: uuid.UUID | None = None,
        digest_id: uuid.UUID | None = None,
        delivery_id: uuid.UUID | None = None,
    ) -> str:
        """A new link's token (shown once, in the mail; only its digest is kept)."""
        token = tokens.new_token()
        self._rows.append(
            {
                "id": uuid.uuid4(),
                "token_hash": tokens.digest(token),
                "action": action.value,
                "user_id": user_id,
                "incident_id": incident_id,
                "digest_id": digest_id,
                "delivery_id": delivery_id,
                "expires_at": expires_at,
            }
        )
        return token

    async def insert(self, session: AsyncSession) -> None:
        if self._rows:
            await driver.execute(
                session,
                statements.INSERT_LINKS,
                {"now": self.now, "rows": statements.records(self._rows)},
            )


async def inspect(
    session: AsyncSession, *, token: str, now: datetime, signed_in: uuid.UUID | None = None
) -> Inspected:
    """What a link would do, for the confirmation page. Changes nothing."""
    link = await session.scalar(
        sa.select(MagicLink).where(MagicLink.token_hash == tokens.digest(token))
    )
    if link is None:
        return Inspected(LinkState.UNKNOWN)
    recipient = await session.get(User, link.user_id)
    covered = await _incidents(session, link)
    if signed_in is not None and signed_in != link.user_id:
        return Inspected(LinkState.FOREIGN, link, recipient, covered)
    if link.used_at is not None:
        return Inspected(LinkState.USED, link, recipient, covered)
    if link.expires_at <= now:
        return Inspected(LinkState.EXPIRED, link, recipient, covered)
    if recipient is None or not recipient.is_active:
        return Inspected(LinkState.FOREIGN, link, recipient, covered)
    return Inspected(LinkState.USABLE, link, recipient, covered)


@dataclass(frozen=True)
class Used:
    changed: tuple[Incident, ...]
    # Incidents someone else had already moved on, with who and when.
    already: tuple[StaleTransition, ...]


async def use(
    session: AsyncSession,
    *,
    token: str,
    now: datetime,
    ip_address: str | None = None,
    signed_in: uuid.UUID | None = None,
) -> Used | Inspected:
    """Consume the link and act as its recipient; an ``Inspected`` when it is not usable,
    including when ``signed_in`` (the browser's signed-in person) is someone else."""
    usable = [
        MagicLink.token_hash == tokens.digest(token),
        MagicLink.used_at.is_(None),
        MagicLink.expires_at > now,
    ]
    if signed_in is not None:
        usable.append(MagicLink.user_id == signed_in)
    consumed = await session.scalar(
        sa.update(MagicLink).where(*usable).values(used_at=now).returning(MagicLink.id)
    )
    if consumed is None:
        return await inspect(session, token=token, now=now, signed_in=signed_in)
    link = await session.get(MagicLink, consumed)
    assert link is not None
    recipient = await session.get(User, link.user_id)
    if recipient is None or not recipient.is_active:
        return Inspected(LinkState.FOREIGN, link, recipient)
    actor = Actor(await principals.user_principal(session, recipient), ip_address, "email link")
    changed: list[Incident] = []
    already: list[StaleTransition] = []
    allowed = CAN_ACKNOWLEDGE if link.action == LinkAction.ACKNOWLEDGE else CAN_RESOLVE
    covered = await _incidents(session, link)
    for incident in covered:
        if link.digest_id is not None and incident.status not in allowed:
            continue  # a digest acts on what is still open and says nothing of the rest
        try:
            # A savepoint per incident: a lost race on one leaves the others' changes.
            async with session.begin_nested():
                changed.append(await _act(session, link, incident.id, actor, now))
        except StaleTransition as lost:
            already.append(lost)
    if not changed:
        # Nothing changed, so nothing was used: roll back the consumption with the rest.
        raise already[0] if already else StaleTransition("every incident is already closed")
    return Used(tuple(changed), tuple(already))


async def _act(
    session: AsyncSession, link: MagicLink, incident_id: uuid.UUID, actor: Actor, now: datetime
) -> Incident:
    if link.action == LinkAction.ACKNOWLEDGE:
        return await incidents.acknowledge(
            session, incident_id=incident_id, actor=actor, via=VIA, now=now
        )
    return await incidents.resolve(session, incident_id=incident_id, actor=actor, via=VIA, now=now)


async def _incidents(session: AsyncSession, link: MagicLink) -> tuple[Incident, ...]:
    if link.incident_id is not None:
        incident = await session.get(Incident, link.incident_id)
        return (incident,) if incident is not None else ()
    members = sa.select(Delivery.incident_id).where(
        Delivery.digest_id == link.digest_id,
        Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.DELIVERED]),
    )
    found = await session.scalars(
        sa.select(Incident).where(Incident.id.in_(members)).order_by(Incident.number)
    )
    return tuple(found.all())


def issue_url(base_url: str, token: str) -> str:
    return f"{base_url}/magic/{token}"
