"""Web push's entry in the channel registry: always configured, since it needs no vendor
account (the VAPID key is generated into the data folder on first start).

The channel's modules (and ``pywebpush``) are imported by ``build`` and ``routers``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import Channel, ChannelPackage


def build(settings: Settings, database: Database, clock: Clock) -> Channel[Any]:
    from tocsin.notify.channels.push import vapid  # noqa: PLC0415 - memory
    from tocsin.notify.channels.push.channel import PushChannel  # noqa: PLC0415 - memory
    from tocsin.notify.channels.push.providers import webpush  # noqa: PLC0415 - memory

    key = vapid.load_or_create(settings)
    return PushChannel([webpush.WebPushProvider(key, settings.push_subject)])


def routers() -> tuple[APIRouter, ...]:
    from tocsin.notify.channels.push import routes  # noqa: PLC0415 - memory

    return (routes.router,)


PACKAGE = ChannelPackage(
    kind=ChannelKind.PUSH, configured=lambda settings: True, build=build, routers=routers
)
