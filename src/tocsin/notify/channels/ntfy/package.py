"""ntfy's entry in the channel registry: always configured (it needs no account: each
person names their own topic and server)."""

from __future__ import annotations

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import ChannelPackage
from tocsin.notify.channels.ntfy import access
from tocsin.notify.channels.ntfy.channel import NtfyChannel, NtfyProvider


def build(settings: Settings, database: Database, clock: Clock) -> NtfyChannel:
    return NtfyChannel([NtfyProvider()], access.cipher(settings))


PACKAGE = ChannelPackage(kind=ChannelKind.NTFY, configured=lambda settings: True, build=build)
