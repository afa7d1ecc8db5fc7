"""Provider circuit breakers, stored so that every tocsin process shares them.

Each decision reads and writes the provider's row under ``FOR UPDATE`` in a transaction of
its own (a few milliseconds), so two processes cannot both become the half-open probe.
The rules are ``domain.circuits``; this module only loads and stores them. Senders skip
these transactions for a provider they read as closed and clean less than a second ago
(``notify.sending.Breakers``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.db.models.deliveries import ProviderCircuit
from tocsin.domain import circuits


async def admit(session: AsyncSession, provider: str, *, now: datetime) -> bool:
    state = await session.scalar(
        sa.select(ProviderCircuit.state).where(ProviderCircuit.provider == provider)
    )
    if state is None or state is circuits.CircuitState.CLOSED:
        return True  # the common case: no lock, no write
    row = await _locked(session, provider, now)
    allowed, after = circuits.admit(_circuit(row), now)
    if after != _circuit(row):
        _store(row, after, now)
    return allowed


async def record(session: AsyncSession, provider: str, *, ok: bool, now: datetime) -> None:
    if ok:
        # The common case writes nothing: a closed circuit with no failures stays so.
        await session.execute(
            sa.update(ProviderCircuit)
            .where(
                ProviderCircuit.provider == provider,
                sa.or_(
                    ProviderCircuit.failures > 0,
                    ProviderCircuit.state != circuits.CircuitState.CLOSED,
                ),
            )
            .values(
                state=circuits.CircuitState.CLOSED,
                failures=0,
                open_until=None,
                probe_until=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return
    row = await _locked(session, provider, now)
    _store(row, circuits.failed(_circuit(row), now), now)


async def _locked(session: AsyncSession, provider: str, now: datetime) -> ProviderCircuit:
    await session.execute(
        insert(ProviderCircuit)
        .values(provider=provider, state=circuits.CircuitState.CLOSED, failures=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["provider"])
    )
    row = await session.scalar(
        sa.select(ProviderCircuit)
        .where(ProviderCircuit.provider == provider)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def _circuit(row: ProviderCircuit) -> circuits.Circuit:
    return circuits.Circuit(row.state, row.failures, row.open_until, row.probe_until)


def _store(row: ProviderCircuit, circuit: circuits.Circuit, now: datetime) -> None:
    row.state = circuit.state
    row.failures = circuit.failures
    row.open_until = circuit.open_until
    row.probe_until = circuit.probe_until
    row.updated_at = now


async def circuits_of(session: AsyncSession) -> dict[str, circuits.Circuit]:
    """Every stored breaker (a provider with no row has never failed: closed)."""
    rows = await session.scalars(sa.select(ProviderCircuit))
    return {row.provider: _circuit(row) for row in rows}
