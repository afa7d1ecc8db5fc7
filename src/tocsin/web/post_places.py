"""The shared places (Slack channels, Teams Workflows webhooks) shown on a service's and
a team's page: what each lists, and what may be added there.

Addresses are shown masked, as the API shows them: a Workflows URL is a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.actions.services import post_targets
from tocsin.config import Settings
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels import registry
from tocsin.security.encryption import Cipher


@dataclass(frozen=True)
class Place:
    id: str
    kind: ChannelKind
    label: str
    address: str
    broken_at: datetime | None
    broken_reason: str | None


async def places(
    session: AsyncSession, *, actor: Actor, cipher: Cipher, owner: post_targets.Owner
) -> list[Place]:
    found = await post_targets.list_targets(session, actor=actor, owner=owner)
    return [
        Place(
            id=str(target.id),
            kind=target.kind,
            label=target.label,
            address=post_targets.masked(cipher.decrypt(target.address_encrypted)),
            broken_at=target.broken_at,
            broken_reason=target.broken_reason,
        )
        for target in found
    ]


def kinds(settings: Settings) -> list[ChannelKind]:
    """What the add form offers: the channels set up here that post to shared places."""
    return registry.post_kinds(settings)
