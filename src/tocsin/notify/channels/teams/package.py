"""Teams' entry in the channel registry.

Posting to a Teams channel needs no Azure set-up: a Workflows webhook URL, added to a
service as a place to post to, is all. Personal pages in Teams need tocsin's bot (an
Azure Bot registration: ``TOCSIN_TEAMS_APP_ID``, ``_APP_PASSWORD``, ``_TENANT_ID``);
without it Teams is never counted as a way a person can be reached.
"""

from __future__ import annotations

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.addresses import outbound_url
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import ChannelPackage
from tocsin.notify.channels.teams import connector, routes
from tocsin.notify.channels.teams.channel import TeamsChannel


def build(settings: Settings, database: Database, clock: Clock) -> TeamsChannel:
    bot = (
        connector.BotConnector(connector.token_provider(settings, clock))
        if connector.configured(settings)
        else None
    )
    return TeamsChannel(settings.base_url, connector=bot)


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
    routers=lambda: (routes.router, routes.bot_router),
    post_address=post_address,
    pages=connector.configured,
)
