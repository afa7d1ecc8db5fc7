"""A reference being written and a delete of what it refers to, at the same moment: the
row locks make the delete wait and then refuse, naming the new reference, instead of one
of them failing on a foreign key with a 500."""

from __future__ import annotations

import asyncio

import pytest

from tests.builders import Seed
from tocsin.actions.actors import system_actor
from tocsin.actions.escalation import policies
from tocsin.actions.services import integrations, services
from tocsin.actions.services.integration_settings import Destination
from tocsin.db.models.integrations import IntegrationKind
from tocsin.errors import Conflict

ACTOR = system_actor("race test")


async def test_a_policy_deleted_while_a_service_adopts_it_is_refused(seed: Seed) -> None:
    team = await seed.team("Payments")
    policy = await seed.policy(team, levels=[(5, [team])])
    adopted = asyncio.Event()
    release = asyncio.Event()

    async def adopt() -> None:
        async with seed.database.transaction() as session:
            await services.create_service(
                session,
                actor=ACTOR,
                team_id=team.id,
                name="Checkout",
                escalation_policy_id=policy.id,
                now=seed.clock.now(),
            )
            adopted.set()
            await release.wait()  # hold the transaction open while the delete arrives

    async def delete() -> None:
        await adopted.wait()
        async with seed.database.transaction() as session:
            await policies.delete_policy(
                session, actor=ACTOR, policy_id=policy.id, now=seed.clock.now()
            )

    adopting = asyncio.create_task(adopt())
    deleting = asyncio.create_task(delete())
    await adopted.wait()
    await asyncio.sleep(0.2)
    assert not deleting.done()  # the delete waits for the service's transaction
    release.set()
    await adopting
    with pytest.raises(Conflict) as refused:
        await deleting
    assert refused.value.extensions["used_by"] == {"services": ["Checkout"]}


async def test_a_service_deleted_while_an_integration_is_pointed_at_it_is_refused(
    seed: Seed,
) -> None:
    team = await seed.team("Payments")
    service = await seed.service(team, name="Checkout")
    pointed = asyncio.Event()
    release = asyncio.Event()

    async def point() -> None:
        async with seed.database.transaction() as session:
            await integrations.create_integration(
                session,
                actor=ACTOR,
                cipher=seed.cipher,
                name="Prometheus",
                kind=IntegrationKind.ALERTMANAGER,
                destination=Destination(service_id=service.id),
                now=seed.clock.now(),
            )
            pointed.set()
            await release.wait()

    async def delete() -> None:
        await pointed.wait()
        async with seed.database.transaction() as session:
            await services.delete_service(
                session, actor=ACTOR, service_id=service.id, now=seed.clock.now()
            )

    pointing = asyncio.create_task(point())
    deleting = asyncio.create_task(delete())
    await pointed.wait()
    await asyncio.sleep(0.2)
    assert not deleting.done()
    release.set()
    await pointing
    with pytest.raises(Conflict) as refused:
        await deleting
    assert refused.value.extensions["used_by"] == {"integrations": ["Prometheus"]}
