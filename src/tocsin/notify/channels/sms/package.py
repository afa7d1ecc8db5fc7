"""SMS's entry in the channel registry: configured with a Twilio account and a sender
(a Messaging Service or a number)."""

from __future__ import annotations

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import ChannelPackage
from tocsin.notify.channels.sms import routes
from tocsin.notify.channels.sms.channel import SmsChannel
from tocsin.notify.channels.sms.providers.twilio import TwilioConfig, TwilioProvider


def configured(settings: Settings) -> bool:
    return bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.twilio_messaging_service_sid or settings.twilio_from_number)
    )


def build(settings: Settings, database: Database, clock: Clock) -> SmsChannel:
    assert settings.twilio_account_sid is not None
    assert settings.twilio_auth_token is not None
    twilio = TwilioConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        messaging_service_sid=settings.twilio_messaging_service_sid,
        from_number=settings.twilio_from_number,
        status_callback=f"{settings.base_url}/twilio/status",
        api_url=settings.twilio_api_url,
    )
    return SmsChannel([TwilioProvider(twilio)])


PACKAGE = ChannelPackage(
    kind=ChannelKind.SMS, configured=configured, build=build, routers=(routes.router,)
)
