"""One provider call for a prepared delivery: failover across the channel's providers,
each behind its circuit breaker, with a timeout.

Providers are tried in order within the same attempt (Twilio, then SNS): a provider whose
circuit is open is skipped; a provider failure counts against its circuit and moves on to
the next; a permanent failure about the message itself (an invalid address) ends the
attempt at once, since another provider would refuse it too. Only when every provider is
skipped or failed does the attempt fail, transiently, and the dispatcher retries later.

No transaction is open during the call: the breaker's reads and writes are short
transactions of their own.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from tocsin.actions import provider_circuits
from tocsin.db.session import Database
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import Channel


async def send(
    database: Database,
    channel: Channel,
    notice: Notice,
    *,
    time_limit: float,
    now: datetime,
) -> tuple[Outcome, str | None]:
    """The outcome and the name of the provider that produced it."""
    rendered = channel.render(notice)
    last: Outcome = Failed(
        ErrorCode.PROVIDER_UNAVAILABLE, "every provider's circuit is open", permanent=False
    )
    used: str | None = None
    for index, provider in enumerate(channel.providers):
        async with database.transaction() as session:
            admitted = await provider_circuits.admit(session, provider.name, now=now)
        if not admitted:
            continue
        try:
            # The provider has its own timeout; this one also bounds a provider that
            # ignores it. Either way the outcome is unknown, not failed.
            outcome = await asyncio.wait_for(
                channel.send(rendered, via=index, notice=notice, time_limit=time_limit),
                time_limit + 5,
            )
        except TimeoutError:
            outcome = Unknown(f"{provider.name} did not answer within {time_limit:.0f} s")
        used = provider.name
        fault = isinstance(outcome, Failed) and outcome.provider_fault
        async with database.transaction() as session:
            await provider_circuits.record(session, provider.name, ok=not fault, now=now)
        if isinstance(outcome, Sent | Unknown) or (
            isinstance(outcome, Failed) and not outcome.provider_fault
        ):
            return outcome, used
        last = outcome
    return last, used
