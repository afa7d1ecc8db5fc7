"""Voice's entry in the channel registry: configured with a Twilio account and a number of
it to call from (a Messaging Service cannot place calls), a Vonage Voice application, or
both; with both, a call tries Twilio first and fails over to Vonage.

The channel's modules (and the ``twilio`` library) are imported by ``build`` and
``routers``, which run only when Twilio voice is configured.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import Channel, ChannelPackage


def twilio_configured(settings: Settings) -> bool:
    return bool(
        settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number
    )


def vonage_configured(settings: Settings) -> bool:
    return bool(
        settings.vonage_application_id and settings.vonage_private_key and settings.vonage_from
    )


def configured(settings: Settings) -> bool:
    return twilio_configured(settings) or vonage_configured(settings)


def build(settings: Settings, database: Database, clock: Clock) -> Channel[Any]:
    from tocsin.notify.channels.voice.channel import VoiceChannel  # noqa: PLC0415 - memory
    from tocsin.notify.channels.voice.providers import twilio, vonage  # noqa: PLC0415 - memory
    from tocsin.notify.providers.twilio import account_of  # noqa: PLC0415 - memory

    providers: list[Any] = []
    if twilio_configured(settings):
        assert settings.twilio_from_number is not None
        config = twilio.TwilioVoiceConfig(
            account=account_of(settings),
            from_number=settings.twilio_from_number,
            public_url=settings.base_url,
        )
        providers.append(twilio.TwilioVoiceProvider(config))
    if vonage_configured(settings):
        providers.append(vonage.VonageVoiceProvider(vonage.config_of(settings)))
    return VoiceChannel(providers)


def routers() -> tuple[APIRouter, ...]:
    from tocsin.notify.channels.voice import routes  # noqa: PLC0415 - memory

    return (routes.router,)


PACKAGE = ChannelPackage(
    kind=ChannelKind.VOICE, configured=configured, build=build, routers=routers
)
