"""The two interfaces of every outbound channel: the channel, and the providers behind it.

A **channel** knows how a notice looks on its medium: ``render`` turns a ``Notice`` into
the channel's message (an email, a Slack message, a text), purely, and is golden-tested.
A **provider** is one vendor that can carry that message (SMTP or the local outbox for
email; Twilio or Vonage for a text): ``send`` hands it over and maps the vendor's answer,
or its library's exceptions, to an outcome (``Sent``, ``Failed``, ``Unknown``) where the
library is called. Neither retries, fails over nor tracks circuit breakers:
``notify/sending.py`` does, the same way for every channel, trying the channel's
providers in order.

Each channel's docstring says what *sent*, *delivered* and *unknown* mean for it, and what
happens after an unknown outcome (``resend_after_unknown``): a channel whose receiving end
recognises a duplicate (email, by Message-ID) may send again; one that would ring a phone
twice (voice) must not, and waits for a provider status instead.

A channel is one package, ``notify/channels/<name>/`` (see ``email/``), that describes
itself with a ``ChannelPackage`` (how it is built from the settings, its routes) listed in
``notify/channels/registry.py``; a kind without a configured provider is not deliverable,
and the rules report it as reaching nobody instead of pretending to send.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from fastapi import APIRouter

from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import Outcome
from tocsin.domain.notices import IncidentFacts, Notice

Message = TypeVar("Message")
Message_contra = TypeVar("Message_contra", contravariant=True)


class Provider(Protocol[Message_contra]):
    """One vendor carrying a channel's messages."""

    # Stable name: the key of its circuit breaker and what deliveries record.
    name: str

    async def send(self, message: Message_contra, *, time_limit: float) -> Outcome:
        """Hand ``message`` over within ``time_limit`` seconds; the outcome, never an
        exception for anything the vendor or the network does."""
        ...


class Channel(Protocol[Message]):
    kind: ChannelKind
    intrusive: bool
    supports_interactivity: bool
    resend_after_unknown: bool

    @property
    def providers(self) -> Sequence[Provider[Message]]: ...

    def render(self, notice: Notice) -> Message:
        """The message for ``notice``: the same on every attempt of one delivery."""
        ...


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's later word on a message it accepted."""

    provider_message_id: str
    delivered: bool
    error: str | None = None


class StatusCallbacks(Protocol):
    """Implemented by channels whose providers report delivery later (Twilio, SES)."""

    def handle_status_callback(
        self, provider: str, form: dict[str, str]
    ) -> Sequence[StatusUpdate]: ...


@dataclass(frozen=True)
class ChannelPackage:
    """What a channel package offers tocsin (each package's ``package.py``)."""

    kind: ChannelKind
    # Whether the settings give this channel a provider, known without building it (the
    # rules engine asks, to warn about people no configured channel reaches).
    configured: Callable[[Settings], bool]
    # The channel with its providers; called only when ``configured``.
    build: Callable[[Settings, Database, Clock], Channel[Any]]
    # Its inbound webhooks and pages, mounted by the app when the channel is configured.
    # A callable, like ``build``: a package imports its channel's modules, and so its
    # vendor's SDK, only when the settings configure it (the Slack and Twilio SDKs cost
    # some 20 MB resident), so an installation pays memory only for what it uses.
    routers: Callable[[], tuple[APIRouter, ...]] = lambda: ()
    # Routes that exist only with some of the settings (the Teams bot's, with its app id),
    # mounted beside ``routers``; lazy in the same way.
    routers_for: Callable[[Settings], tuple[APIRouter, ...]] = lambda settings: ()
    # For a channel that posts incidents to shared places (``PostsIncidents``): the
    # address of such a place, checked and normalised, or ``InvalidInput`` naming
    # ``address`` (what ``POST /api/v1/services/{id}/post-targets`` accepts).
    post_address: Callable[[str], str] | None = None
    # Whether the channel carries personal pages with these settings; a channel that only
    # posts to shared places (Teams through Workflows, without its bot) is never counted
    # as reaching anyone.
    pages: Callable[[Settings], bool] = lambda settings: True


# Keeping what was posted in step with the incident ------------------------------------
#
# A page on a chat or push channel is a message that can change after it is sent: Slack
# updates it in place, a Teams card refreshes, a push notification is replaced by one with
# the same topic. And a service may have shared places (a Slack channel, a Teams Workflows
# webhook) where every incident is posted once and kept up to date. The engine's
# follow-up lane (``engine/follow_ups.py``) finds what is behind its incident (the
# incident's ``updated_at`` is newer than what was last shown) and calls these; a channel
# offers them by implementing the protocols below.


@dataclass(frozen=True)
class TimelineLine:
    """One timeline event since the last follow-up, for a thread reply."""

    at: datetime
    text: str


@dataclass(frozen=True)
class IncidentUpdate:
    """An incident as it stands now (``incident.status``, who acknowledged or resolved
    it), what happened since the post was last brought in step, and its version (the
    incident's ``updated_at``, the marker the lane compares)."""

    incident: IncidentFacts
    version: datetime
    level: int
    acknowledged_by: str | None
    resolved_by: str | None
    timeline: tuple[TimelineLine, ...] = ()


@dataclass(frozen=True)
class SentPage:
    """A page this channel sent: where it went and the provider's reference for it."""

    delivery_id: uuid.UUID
    user_id: uuid.UUID
    address: str
    details: dict[str, Any]
    provider: str | None
    provider_message_id: str
    # What the contact method keeps beside its address (a push subscription's keys).
    method_details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class RefreshesPages(Protocol):
    """A channel whose sent pages change when their incident does."""

    async def refresh(
        self, page: SentPage, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome:
        """Bring ``page`` in step with ``update``; idempotent (called again after a crash)."""
        ...


@dataclass(frozen=True)
class PostTarget:
    """A shared place incidents of a service are posted to (``post_target`` row)."""

    id: uuid.UUID
    kind: ChannelKind
    address: str  # a Slack channel id, a Teams Workflows URL (decrypted), …
    details: dict[str, Any]


@runtime_checkable
class PostsIncidents(Protocol):
    """A channel that posts every incident of a service to a shared place, once, and keeps
    that post in step (``Sent.provider_message_id`` of ``post`` is the post's reference,
    given back to ``update``)."""

    async def post(
        self, target: PostTarget, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome: ...

    async def update(
        self, target: PostTarget, reference: str, update: IncidentUpdate, *, time_limit: float
    ) -> Outcome: ...
