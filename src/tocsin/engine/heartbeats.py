"""Heartbeat module: monitors whose ping is overdue become missed and raise an alert.

Owns ``integration.heartbeat_expires_at`` for heartbeat integrations in state ``ok``.
``actions.heartbeats.expire`` flips the state with a conditional UPDATE, so a ping that
arrives at the same moment wins or loses cleanly and the alert is raised at most once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from tocsin.actions.intake import heartbeats
from tocsin.actions.intake.lookups import IntakeIntegration
from tocsin.db.models.integrations import HeartbeatState, Integration, IntegrationKind
from tocsin.db.session import Database
from tocsin.engine import claims
from tocsin.engine.modules import TickReport, apply_each

RETRY_AFTER_FAILURE = timedelta(seconds=30)
_DUE = (
    Integration.kind == IntegrationKind.HEARTBEAT,
    Integration.heartbeat_state == HeartbeatState.OK,
    Integration.is_enabled.is_(True),
)


class HeartbeatModule:
    name = "heartbeats"

    async def tick(self, database: Database, now: datetime, *, batch_size: int) -> TickReport:
        report = TickReport(self.name)
        async with database.transaction() as session:
            due = await claims.claim_due(
                session,
                Integration,
                Integration.heartbeat_expires_at,
                now=now,
                limit=batch_size,
                where=_DUE,
            )
            report.claimed = len(due)
            report.more = len(due) == batch_size

            async def expire(integration: Integration) -> bool:
                return await heartbeats.expire(
                    session, integration=IntakeIntegration.of(integration), now=now
                )

            async def later(integration: Integration) -> None:
                await session.execute(
                    sa.update(Integration)
                    .where(Integration.id == integration.id)
                    .values(heartbeat_expires_at=now + RETRY_AFTER_FAILURE)
                    .execution_options(synchronize_session=False)
                )

            await apply_each(session, due, expire, report, on_failure=later)
        return report

    async def next_due(self, database: Database) -> datetime | None:
        async with database.transaction() as session:
            return await claims.earliest(session, Integration.heartbeat_expires_at, *_DUE)
