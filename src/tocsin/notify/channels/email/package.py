"""Email's entry in the channel registry: how it is built from the settings, and its pages.

Always configured: with ``TOCSIN_SMTP_HOST`` mail goes to that server, without it to the
local outbox (a page platform admins read), so a new installation delivers from the start.
"""

from __future__ import annotations

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import ChannelPackage, Provider
from tocsin.notify.channels.email import routes
from tocsin.notify.channels.email.channel import EmailChannel, OutgoingEmail
from tocsin.notify.channels.email.providers.outbox import OutboxProvider
from tocsin.notify.channels.email.providers.smtp import SmtpConfig, SmtpProvider


def providers(
    settings: Settings, database: Database, clock: Clock
) -> list[Provider[OutgoingEmail]]:
    if not settings.smtp_host:
        return [OutboxProvider(database, clock)]
    port = settings.smtp_port or (465 if settings.smtp_security == "tls" else 587)
    return [
        SmtpProvider(
            SmtpConfig(
                host=settings.smtp_host,
                port=port,
                security=settings.smtp_security,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value() if settings.smtp_password else None
                ),
            ),
            # One open connection per concurrent send: fewer, and a burst of mail would
            # open (TCP, EHLO, TLS, login) and close connections for every mail above it.
            max_idle=settings.notify_concurrency,
        )
    ]


def build(settings: Settings, database: Database, clock: Clock) -> EmailChannel:
    return EmailChannel(providers(settings, database, clock), sender=settings.mail_from)


PACKAGE = ChannelPackage(
    kind=ChannelKind.EMAIL,
    configured=lambda settings: True,
    build=build,
    routers=lambda: (routes.router,),
)
