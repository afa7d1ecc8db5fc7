"""SMTP through aiosmtplib (a maintained asyncio client: STARTTLS, implicit TLS, AUTH).

Replies map to outcomes by their class (RFC 5321 §4.2.1): a 5yz reply to a recipient or to
the data is permanent for this message (an unknown mailbox, a rejected message) and says
nothing against the server; a 4yz reply is transient. Failing to connect, to start TLS or
to log in is the server's fault: transient, and counted against its circuit breaker. A
timeout or a dropped connection is ``Unknown``: the server may have accepted the data.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent, Unknown
from tocsin.notify.channels.email.channel import OutgoingEmail

Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None
    tls_context: ssl.SSLContext | None = None


class SmtpProvider:
    """Keeps up to ``max_idle`` authenticated connections open between messages: a new
    connection costs a TCP handshake, EHLO, often TLS and a login, far more than the
    message itself. A pooled connection the server has meanwhile closed fails on its
    first command, before any data; the message then goes out on a fresh connection."""

    def __init__(self, config: SmtpConfig, *, name: str = "smtp", max_idle: int = 16) -> None:
        self.config = config
        self.name = name
        self.max_idle = max_idle
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, email: OutgoingEmail, *, time_limit: float) -> Outcome:
        try:
            client, reused = await self._client(time_limit)
            try:
                errors = await _sendmail(client, email, time_limit)
            except aiosmtplib.SMTPServerDisconnected:
                client.close()
                if not reused:
                    raise
                client, _ = await self._client(time_limit, fresh=True)
                errors = await _sendmail(client, email, time_limit)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            return _refused(refused.recipients)
        except aiosmtplib.SMTPTimeoutError as error:
            return Unknown(f"SMTP timed out: {error}")
        except aiosmtplib.SMTPServerDisconnected as error:
            return Unknown(f"SMTP server disconnected: {error}")
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused) as error:
            # Our login or our sender address refused: the server's setup, not the page.
            detail = f"SMTP {error.code}: {error.message}"
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, detail, permanent=False)
        except aiosmtplib.SMTPResponseException as error:
            return _reply(error.code, error.message)
        except (aiosmtplib.SMTPNotSupported, ValueError) as error:
            # An address this server cannot take (non-ASCII without SMTPUTF8) or that
            # cannot be written into a command safely: about the message, not the server.
            detail = f"SMTP: {error}"[:1000]
            return Failed(ErrorCode.INVALID_ADDRESS, detail, permanent=True, provider_fault=False)
        except (aiosmtplib.SMTPException, OSError) as error:
            return Failed(ErrorCode.PROVIDER_UNAVAILABLE, f"SMTP: {error}", permanent=False)
        self._release(client)
        if errors:
            address, response = next(iter(errors.items()))
            return _reply(response.code, f"{address}: {response.message}", recipient=True)
        return Sent(provider_message_id=email.message_id)

    async def _client(
        self, time_limit: float, *, fresh: bool = False
    ) -> tuple[aiosmtplib.SMTP, bool]:
        while self._idle and not fresh:
            client = self._idle.pop()
            if client.is_connected:
                return client, True
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            tls_context=config.tls_context,
            timeout=time_limit,
        )
        await client.connect()
        return client, False

    def _release(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected and len(self._idle) < self.max_idle:
            self._idle.append(client)
        else:
            client.close()


async def _sendmail(
    client: aiosmtplib.SMTP, email: OutgoingEmail, time_limit: float
) -> dict[str, aiosmtplib.SMTPResponse]:
    """Send the ready bytes (``notify.mime``) as they are: ``send_message`` would flatten
    an ``EmailMessage`` all over again. Refused recipients, if the server took the data."""
    utf8 = not (email.sender.isascii() and email.recipient.isascii())
    errors, _ = await client.sendmail(
        email.sender,
        [email.recipient],
        email.raw,
        mail_options=["SMTPUTF8"] if utf8 else [],
        timeout=time_limit,
    )
    return errors


def _refused(recipients: list[aiosmtplib.SMTPRecipientRefused]) -> Failed:
    first = recipients[0]
    return _reply(first.code, f"{first.recipient}: {first.message}", recipient=True)


def _reply(code: int, text: str, *, recipient: bool = False) -> Failed:
    detail = f"SMTP {code}: {text}"[:1000]
    if 500 <= code < 600:
        reason = ErrorCode.INVALID_ADDRESS if recipient else ErrorCode.REJECTED
        return Failed(reason, detail, permanent=True, provider_fault=False)
    return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False, provider_fault=not recipient)
