"""SMS's entry in the channel registry: configured with Twilio (an account and a
Messaging Service or number), Vonage (a key, secret and sender), or both; with both,
every text tries Twilio first and fails over to Vonage (``notify/sending.py``).

The channel's modules (and the ``twilio`` and ``vonage`` libraries, some 20 MB resident)
are imported by ``build`` and ``routers``, which run only when a provider is configured.
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
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.twilio_messaging_service_sid or settings.twilio_from_number)
    )


def vonage_configured(settings: Settings) -> bool:
    return bool(settings.vonage_api_key and settings.vonage_api_secret and settings.vonage_from)


def configured(settings: Settings) -> bool:
    return twilio_configured(settings) or vonage_configured(settings)


def build(settings: Settings, database: Database, clock: Clock) -> Channel[Any]:
    from tocsin.notify.channels.sms.channel import SmsChannel  # noqa: PLC0415 - memory
    from tocsin.notify.channels.sms.providers import twilio, vonage  # noqa: PLC0415 - memory
    from tocsin.notify.providers.twilio import account_of  # noqa: PLC0415 - memory

    providers: list[Any] = []
    if twilio_configured(settings):
        config = twilio.TwilioConfig(
            account=account_of(settings),
            messaging_service_sid=settings.twilio_messaging_service_sid,
            from_number=settings.twilio_from_number,
            status_callback=f"{settings.base_url}/twilio/status",
        )
        providers.append(twilio.TwilioProvider(config))
    if vonage_configured(settings):
        providers.append(vonage.VonageProvider(vonage.config_of(settings)))
    return SmsChannel(providers)


def routers() -> tuple[APIRouter, ...]:
    from tocsin.notify.channels.sms import routes  # noqa: PLC0415 - memory

    return (routes.router,)


PACKAGE = ChannelPackage(kind=ChannelKind.SMS, configured=configured, build=build, routers=routers)
