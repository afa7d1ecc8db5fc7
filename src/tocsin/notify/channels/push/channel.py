"""The web push channel: a page is a notification of the installable app on each device
its person enabled push on.

* **sent**: the push service took the message (201). Push services report nothing later,
  so a push is never *delivered* in tocsin's sense: the person's phone may be off, and
  the push service keeps it for its ``TTL``.
* **unknown**: no answer in time; re-sent (``resend_after_unknown``): the copy has the
  same ``Topic`` and ``tag``, so it replaces the first instead of ringing twice.

Once the incident is acknowledged or resolved (by anyone, anywhere), the follow-up lane
asks ``refresh``: a silent notification with the same tag replaces the page on every
device, without its buttons, saying who acted.
"""

from __future__ import annotations

from collections.abc import Sequence

from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Outcome, Sent
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import IncidentUpdate, Provider, SentPage
from tocsin.notify.channels.push import payload
from tocsin.notify.channels.push.payload import PushMessage


class PushChannel:
    kind = ChannelKind.PUSH
    intrusive = False
    supports_interactivity = True
    resend_after_unknown = True

    def __init__(self, providers: Sequence[Provider[PushMessage]]) -> None:
        self._providers = list(providers)

    @property
    def providers(self) -> Sequence[Provider[PushMessage]]:
        return self._providers

    def render(self, notice: Notice) -> PushMessage:
        body, ttl, urgency, topic = payload.message(notice)
        keys = notice.recipient.method_details
        return PushMessage(
            endpoint=notice.recipient.address,
            p256dh=str(keys.get("p256dh", "")),
            auth=str(keys.get("auth", "")),
            payload=body,
            ttl=ttl,
            urgency=urgency,
            topic=topic,
        )

    async def refresh(
        self, page: SentPage, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        if update.incident.status == "triggered":
            # Still asking for someone (escalated, re-triggered): the notification shown
            # keeps its buttons, and the next level's own page does the asking.
            return Sent(provider_message_id=page.provider_message_id)
        message = PushMessage(
            endpoint=page.address,
            p256dh=str(page.method_details.get("p256dh", "")),
            auth=str(page.method_details.get("auth", "")),
            payload=payload.refreshed(update),
            ttl=payload.UPDATE_TTL,
            urgency="low",
            topic=payload.topic(update.incident.number),
        )
        return await self._providers[0].send(message, time_limit=time_limit)
