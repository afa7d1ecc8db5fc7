"""The one interface every outbound channel implements.

A channel knows how a notice looks on its medium (``render``, pure and golden-tested) and
how to hand a rendered message to one of its providers (``send``). It does not retry, fail
over or track circuit breakers: ``notify/sending.py`` does, the same way for every channel.

Each channel's docstring says what *sent*, *delivered* and *unknown* mean for it, and what
happens after an unknown outcome (``resend_after_unknown``): a channel whose receiving end
recognises a duplicate (email, by Message-ID) may send again; one that would ring a phone
twice (voice) must not, and waits for a provider status instead.

Slack, Teams, web push, SMS and voice are each a new module here implementing ``Channel``
with their providers under ``notify/providers/``; a kind without a configured provider is
simply not deliverable, and the rules engine treats it so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Outcome
from tocsin.domain.notices import Notice
from tocsin.notify.providers.base import Provider


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's later word on a message it accepted."""

    provider_message_id: str
    delivered: bool
    error: str | None = None


class Channel(Protocol):
    kind: ChannelKind
    intrusive: bool
    supports_interactivity: bool
    resend_after_unknown: bool

    @property
    def providers(self) -> Sequence[Provider]: ...

    def render(self, notice: Notice) -> Any: ...

    async def send(self, rendered: Any, *, via: int, notice: Notice, time_limit: float) -> Outcome:
        """Hand ``rendered`` to ``self.providers[via]``; map its errors to an outcome."""
        ...


class StatusCallbacks(Protocol):
    """Implemented by channels whose providers report delivery later (Twilio, SES)."""

    def handle_status_callback(
        self, provider: str, form: dict[str, str]
    ) -> Sequence[StatusUpdate]: ...
