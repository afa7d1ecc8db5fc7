"""Slack's entry in the channel registry.

Configured when the app's Client ID, Client Secret and Signing Secret are set
(``docs/channels/slack.md``); then pages reach people who linked their Slack account, and
services may post their incidents to Slack channels.

The channel's modules (and ``slack_sdk`` with ``aiohttp``, about 15 MB resident) are
imported by ``build`` and ``routers``, which run only when Slack is configured.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.errors import InvalidInput
from tocsin.notify.channels.base import Channel, ChannelPackage
from tocsin.security import secret_key
from tocsin.security.encryption import Cipher

# A channel id (C… public, G… private), optionally after its workspace's team id.
CHANNEL = re.compile(r"^(?:(T[A-Z0-9]{2,31}):)?([CG][A-Z0-9]{2,31})$")


def configured(settings: Settings) -> bool:
    return bool(
        settings.slack_client_id and settings.slack_client_secret and settings.slack_signing_secret
    )


def build(settings: Settings, database: Database, clock: Clock) -> Channel[Any]:
    from tocsin.notify.channels.slack.channel import SlackChannel  # noqa: PLC0415 - memory
    from tocsin.notify.channels.slack.web_api import SlackApi  # noqa: PLC0415 - memory

    cipher = Cipher(secret_key.load_or_create(settings))
    api = SlackApi.of(settings, database, cipher, clock)
    return SlackChannel(api, database)


def routers() -> tuple[APIRouter, ...]:
    from tocsin.notify.channels.slack import routes, signin  # noqa: PLC0415 - memory

    return (routes.router, signin.router)


def post_address(value: str) -> str:
    """A Slack channel to post to: its id (``C0123ABCD``, from the channel's details in
    Slack), or ``<team id>:<channel id>`` when tocsin is in several workspaces."""
    cleaned = value.strip().upper().lstrip("#")
    if not CHANNEL.match(cleaned):
        raise InvalidInput(
            "address",
            "a Slack channel id such as C0123ABCD (in Slack: the channel's name → About → "
            "Channel ID), or T…:C… to name its workspace too",
        )
    return cleaned


PACKAGE = ChannelPackage(
    kind=ChannelKind.SLACK,
    configured=configured,
    build=build,
    routers=routers,
    post_address=post_address,
)
