"""Teams' entry in the channel registry.

Posting to a Teams channel needs no Azure set-up: a Workflows webhook URL, added to a
service as a place to post to, is all. Personal pages in Teams (a bot) are not built, so
Teams is never counted as a way a person can be reached (``pages=False``).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.errors import InvalidInput
from tocsin.notify.channels.base import ChannelPackage
from tocsin.notify.channels.teams import routes
from tocsin.notify.channels.teams.channel import TeamsChannel


def build(settings: Settings, database: Database, clock: Clock) -> TeamsChannel:
    return TeamsChannel(settings.base_url)


def post_address(value: str) -> str:
    """A Workflows webhook URL ("When a Teams webhook request is received" → HTTP URL):
    HTTPS, to a public host. tocsin posts there from inside your network, so an address
    on it (localhost, a private or link-local IP) is refused: a place to post to must not
    become a way to reach internal services."""
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or len(url) > 2048:
        raise InvalidInput("address", "a Teams Workflows webhook URL starting with https://")
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise InvalidInput("address", "the webhook must be on a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise InvalidInput("address", "the webhook must be on a public host")
    return url


PACKAGE = ChannelPackage(
    kind=ChannelKind.TEAMS,
    configured=lambda settings: True,
    build=build,
    routers=lambda: (routes.router,),
    post_address=post_address,
    pages=False,
)
