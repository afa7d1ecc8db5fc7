"""Teams' entry in the channel registry.

Posting to a Teams channel needs no Azure set-up: a Workflows webhook URL, added to a
service as a place to post to, is all. Personal pages in Teams need tocsin's bot (an
Azure Bot registration: ``TOCSIN_TEAMS_APP_ID``, ``_APP_PASSWORD``, ``_TENANT_ID``);
without it Teams is never counted as a way a person can be reached.

The bot's modules (and Microsoft's Agents SDK, some 14 MB resident) are imported by
``build`` and ``bot_routers`` only when the bot is configured.
"""

from __future__ import annotations

from fastapi import APIRouter

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.addresses import outbound_url
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import ChannelPackage
from tocsin.notify.channels.teams import routes
from tocsin.notify.channels.teams.channel import TeamsChannel


def bot_configured(settings: Settings) -> bool:
    return bool(settings.teams_app_id and settings.teams_app_password and settings.teams_tenant_id)


def build(settings: Settings, database: Database, clock: Clock) -> TeamsChannel:
    if not bot_configured(settings):
        return TeamsChannel(settings.base_url)
    from tocsin.notify.channels.teams.bot import connector  # noqa: PLC0415 - memory
    from tocsin.notify.channels.teams.bot.channel import TeamsBotChannel  # noqa: PLC0415 - memory

    tokens = connector.token_provider(settings, clock)
    return TeamsBotChannel(settings.base_url, connector.BotConnector(tokens))


def bot_routers(settings: Settings) -> tuple[APIRouter, ...]:
    if not bot_configured(settings):
        return ()
    from tocsin.notify.channels.teams.bot import routes as bot  # noqa: PLC0415 - memory

    return (bot.router,)


def post_address(value: str) -> str:
    """A Workflows webhook URL ("When a Teams webhook request is received" → HTTP URL), on
    a public host (``domain/addresses.py``)."""
    return outbound_url(
        value, field="address", what="a Teams Workflows webhook URL", allow_private=False
    )


PACKAGE = ChannelPackage(
    kind=ChannelKind.TEAMS,
    configured=lambda settings: True,
    build=build,
    routers=lambda: (routes.router,),
    routers_for=bot_routers,
    post_address=post_address,
    pages=bot_configured,
)
