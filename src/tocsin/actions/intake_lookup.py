"""What the intake path reads about an integration: trusted lookups, no actor.

The integration key in the request is the credential: ``integration_for_key`` finds the
enabled integration whose key has that SHA-256, ``routing_rules_of`` its ordered rules.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.models.integrations import Integration, RoutingRule
from tocsin.domain import routing
from tocsin.security import tokens


async def integration_for_key(session: AsyncSession, key: str) -> Integration | None:
    return await session.scalar(
        sa.select(Integration).where(
            Integration.key_hash == tokens.digest(key), Integration.is_enabled.is_(True)
        )
    )


async def routing_rules_of(session: AsyncSession, integration_id: uuid.UUID) -> list[routing.Rule]:
    rows = await session.scalars(
        sa.select(RoutingRule)
        .where(RoutingRule.integration_id == integration_id)
        .order_by(RoutingRule.position)
    )
    return [
        routing.Rule(
            service_id=row.service_id,
            conditions=tuple(
                routing.Condition(
                    field=condition["field"],
                    operator=routing.Operator(condition["operator"]),
                    value=condition["value"],
                )
                for condition in row.conditions
            ),
        )
        for row in rows
    ]
