"""The local outbox: where mail goes when no SMTP server is configured.

A real delivery target, not a stand-in: each message is stored whole (headers, text and
HTML) in ``outbox_message`` and shown to platform admins on the Outbox page, so a newcomer
running tocsin with no mail set up sees exactly what would have been sent. Storing it *is*
delivering it, so the outcome is delivered at once.
"""

from __future__ import annotations

from tocsin.clock import Clock
from tocsin.db.session import Database
from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent
from tocsin.notify.channels.email import actions
from tocsin.notify.channels.email.channel import OutgoingEmail


class OutboxProvider:
    name = "outbox"

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    async def send(self, email: OutgoingEmail, *, time_limit: float) -> Outcome:
        try:
            async with self.database.transaction() as session:
                stored = await actions.store(
                    session,
                    message_id=email.message_id,
                    recipient=email.recipient,
                    subject=email.subject,
                    text=email.text,
                    html=email.html,
                    raw=email.raw.decode("utf-8"),
                    now=self.clock.now(),
                )
        except OSError as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"outbox: {error}", permanent=False)
        return Sent(provider_message_id=f"outbox:{stored}", delivered=True)
