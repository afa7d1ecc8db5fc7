"""SMS's entry in the channel registry: configured with a Twilio account and a sender
(a Messaging Service or a number).

The channel's modules (and the ``twilio`` library, about 18 MB resident) are imported by
``build`` and ``routers``, which run only when Twilio is configured.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import Channel, ChannelPackage


def configured(settings: Settings) -> bool:
    return bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.twilio_messaging_service_sid or settings.twilio_from_number)
    )


def build(settings: Settings, database: Database, clock: Clock) -> Channel[Any]:
    from tocsin.notify.channels.sms.channel import SmsChannel  # noqa: PLC0415 - memory
    from tocsin.notify.channels.sms.providers import twilio  # noqa: PLC0415 - memory
    from tocsin.notify.providers.twilio import account_of  # noqa: PLC0415 - memory

    config = twilio.TwilioConfig(
        account=account_of(settings),
        messaging_service_sid=settings.twilio_messaging_service_sid,
        from_number=settings.twilio_from_number,
        status_callback=f"{settings.base_url}/twilio/status",
    )
    return SmsChannel([twilio.TwilioProvider(config)])


def routers() -> tuple[APIRouter, ...]:
    from tocsin.notify.channels.sms import routes  # noqa: PLC0415 - memory

    return (routes.router,)


PACKAGE = ChannelPackage(kind=ChannelKind.SMS, configured=configured, build=build, routers=routers)
