"""Web push's entry in the channel registry: always configured, since it needs no vendor
account (the VAPID key is generated into the data folder on first start).

Being always configured, push must not cost memory before anyone uses it: ``pywebpush``
(with ``requests`` and ``aiohttp``, some 11 MB resident) is imported by the first push
sent, not when the channel is built (``LazyWebPush``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Outcome
from tocsin.notify.channels.base import Channel, ChannelPackage


class LazyWebPush:
    """The web push provider, imported and made on the first push."""

    name = "webpush"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._provider: Any = None

    async def send(self, message: Any, *, time_limit: float) -> Outcome:
        if self._provider is None:
            from tocsin.notify.channels.push import vapid  # noqa: PLC0415 - memory
            from tocsin.notify.channels.push.providers import webpush  # noqa: PLC0415 - memory

            key = vapid.load_or_create(self._settings)
            self._provider = webpush.WebPushProvider(key, self._settings.push_subject)
        outcome: Outcome = await self._provider.send(message, time_limit=time_limit)
        return outcome


def build(settings: Settings, database: Database, clock: Clock) -> Channel[Any]:
    from tocsin.notify.channels.push.channel import PushChannel  # noqa: PLC0415 - memory

    return PushChannel([LazyWebPush(settings)])


def routers() -> tuple[APIRouter, ...]:
    from tocsin.notify.channels.push import routes  # noqa: PLC0415 - memory

    return (routes.router,)


PACKAGE = ChannelPackage(
    kind=ChannelKind.PUSH, configured=lambda settings: True, build=build, routers=routers
)
