"""One provider call for a prepared delivery: failover across the channel's providers,
each behind its circuit breaker, with a timeout.

Providers are tried in order within the same attempt (Twilio, then SNS): a provider whose
circuit is open is skipped; a provider failure counts against its circuit and moves on to
the next; a permanent failure about the message itself (an invalid address) ends the
attempt at once, since another provider would refuse it too. Only when every provider is
skipped or failed does the attempt fail, transiently, and the dispatcher retries later.

No transaction is open during the call. Breakers live in the database so that every
process shares them, but asking the database before and after every mail would cost two
transactions per mail for the common case of a healthy provider; ``Breakers`` remembers,
for a second, which providers were closed with no failures, and goes to the database only
for the others and for failures.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.notify import circuits
from tocsin.db.session import Database
from tocsin.domain.circuits import CircuitState
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import Channel, Message

# How long this process trusts a breaker it read as closed and clean. Another process
# that opens it meanwhile is heeded at most this much later; within that second this
# process's own failures still count at once (they go to the database and forget the
# provider's clean state).
CLEAN_FOR = timedelta(seconds=1)


class Breakers:
    """This process's view of the providers' circuit breakers (see the module docstring).

    Time comes from the engine's clock (``now``), like every other decision: a frozen
    clock in a test keeps the view as long as the test does not move it.
    """

    def __init__(self) -> None:
        self._clean_until: dict[str, datetime] = {}
        self._read_at: datetime | None = None

    def stale(self, now: datetime) -> bool:
        return self._read_at is None or now >= self._read_at + CLEAN_FOR

    async def refresh(self, session: AsyncSession, now: datetime, providers: list[str]) -> None:
        """Re-read every breaker, in a transaction the caller already holds (the claim)."""
        stored = await circuits.circuits_of(session)
        self._read_at = now
        self._clean_until = {
            name: now + CLEAN_FOR
            for name in providers
            if name not in stored
            or (stored[name].state is CircuitState.CLOSED and stored[name].failures == 0)
        }

    def _clean(self, provider: str, now: datetime) -> bool:
        until = self._clean_until.get(provider)
        return until is not None and now < until

    async def admit(self, database: Database, provider: str, now: datetime) -> bool:
        if self._clean(provider, now):
            return True
        async with database.transaction() as session:
            return await circuits.admit(session, provider, now=now)

    async def record(self, database: Database, provider: str, *, ok: bool, now: datetime) -> None:
        if ok and self._clean(provider, now):
            return  # closed with no failures, and a success changes nothing
        async with database.transaction() as session:
            await circuits.record(session, provider, ok=ok, now=now)
        if ok:
            self._clean_until[provider] = now + CLEAN_FOR
        else:
            self._clean_until.pop(provider, None)


async def send(
    database: Database,
    channel: Channel[Message],
    notice: Notice,
    *,
    breakers: Breakers,
    time_limit: float,
    now: datetime,
) -> tuple[Outcome, str | None]:
    """The outcome and the name of the provider that produced it."""
    message = channel.render(notice)
    last: Outcome = Failed(
        ErrorCode.PROVIDER_UNAVAILABLE, "every provider's circuit is open", permanent=False
    )
    used: str | None = None
    for provider in channel.providers:
        if not await breakers.admit(database, provider.name, now):
            continue
        try:
            # The provider has its own timeout; this one also bounds a provider that
            # ignores it. Either way the outcome is unknown, not failed.
            outcome = await asyncio.wait_for(
                provider.send(message, time_limit=time_limit),
                time_limit + 5,
            )
        except TimeoutError:
            outcome = Unknown(f"{provider.name} did not answer within {time_limit:.0f} s")
        used = provider.name
        fault = isinstance(outcome, Failed) and outcome.provider_fault
        await breakers.record(database, provider.name, ok=not fault, now=now)
        if isinstance(outcome, Sent | Unknown) or (
            isinstance(outcome, Failed) and not outcome.provider_fault
        ):
            return outcome, used
        last = outcome
    return last, used
