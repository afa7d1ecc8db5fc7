"""The notification setup of one process, built from ``Settings`` at the edge.

Which channels exist and which providers carry them: every channel of the registry
(``notify/channels/registry.py``) that the settings configure; email always (SMTP when
``TOCSIN_SMTP_HOST`` is set, else the local outbox). A kind with no channel here is not
deliverable: the rules engine reports it as reaching nobody instead of pretending to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from tocsin.actions.notify import notices, tiers
from tocsin.actions.notify.deliveries import SendPolicy
from tocsin.actions.notify.dispatch import DispatchPolicy
from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.session import Database
from tocsin.domain.channels import ChannelKind
from tocsin.notify.channels.base import Channel, PostsIncidents
from tocsin.notify.channels.registry import CHANNELS
from tocsin.security import secret_key
from tocsin.security.encryption import Cipher

# A send in flight is leased for this long, and its worker renews the lease every third
# of it while the send waits for a slot, runs, and until its outcome is recorded
# (``engine/deliveries.py``). A worker that dies is noticed one lease later, however long
# its provider calls may take; a live worker misses two renewals in a row before anyone
# could take its sends for lost.
LEASE = timedelta(seconds=6)


@dataclass(frozen=True)
class Notifier:
    channels: Mapping[ChannelKind, Channel[Any]]
    dispatch: DispatchPolicy
    send: SendPolicy
    timeout: float
    concurrency: int
    clock: Clock
    # Opens what is stored encrypted for the channels (a Teams Workflows URL); built only
    # when a configured channel posts to shared places.
    cipher: Cipher | None = None

    @property
    def resendable(self) -> frozenset[ChannelKind]:
        return frozenset(k for k, c in self.channels.items() if c.resend_after_unknown)


def deliverable(channels: Mapping[ChannelKind, Channel[Any]]) -> frozenset[ChannelKind]:
    return frozenset(kind for kind, channel in channels.items() if channel.providers)


def build(
    settings: Settings,
    database: Database,
    clock: Clock,
    *,
    channels: Mapping[ChannelKind, Channel[Any]] | None = None,
) -> Notifier:
    """The notifier of ``settings``; tests pass ``channels`` to use fake providers."""
    if channels is None:
        channels = {
            package.kind: package.build(settings, database, clock)
            for package in CHANNELS
            if package.configured(settings)
        }
    kinds = deliverable(channels)
    timeout = settings.smtp_timeout_seconds
    thread_domain = urlsplit(settings.base_url).hostname or "tocsin"
    ops = tiers.OpsPolicy(settings.operations_service)
    posting = any(isinstance(channel, PostsIncidents) for channel in channels.values())
    return Notifier(
        cipher=Cipher(secret_key.load_or_create(settings)) if posting else None,
        channels=channels,
        dispatch=DispatchPolicy(
            deliverable=kinds,
            bundle_threshold=settings.notify_bundle_threshold,
            bundle_window=timedelta(minutes=settings.notify_bundle_window_minutes),
            digest_delay=timedelta(seconds=settings.notify_digest_seconds),
            thread_domain=thread_domain,
        ),
        send=SendPolicy(
            deliverable=kinds,
            links=notices.LinkPolicy(
                base_url=settings.base_url,
                min_ttl=timedelta(minutes=settings.magic_link_minutes),
                thread_domain=thread_domain,
            ),
            lease=LEASE,
            ops=ops,
        ),
        timeout=timeout,
        concurrency=settings.notify_concurrency,
        clock=clock,
    )


def configured_kinds(settings: Settings) -> frozenset[ChannelKind]:
    """The kinds ``build(settings, …)`` can deliver, known without building it."""
    return frozenset(
        package.kind
        for package in CHANNELS
        if package.pages(settings) and package.configured(settings)
    )
