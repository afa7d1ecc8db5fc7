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
from tocsin.notify.channels.base import Channel
from tocsin.notify.channels.registry import CHANNELS

# A send's lease covers, with this margin, the longest a live worker can take: waiting
# for a slot behind one call (the delivery module holds at most twice its concurrency)
# and its own call, each up to every provider's timeout (plus the 5 s that bounds a
# provider ignoring it). A live worker is never "recovered".
LEASE_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class Notifier:
    channels: Mapping[ChannelKind, Channel[Any]]
    dispatch: DispatchPolicy
    send: SendPolicy
    timeout: float
    concurrency: int

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
    return Notifier(
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
            lease=2 * _longest_call(channels, timeout) + LEASE_MARGIN,
            ops=ops,
        ),
        timeout=timeout,
        concurrency=settings.notify_concurrency,
    )


def _longest_call(channels: Mapping[ChannelKind, Channel[Any]], timeout: float) -> timedelta:
    providers = max((len(channel.providers) for channel in channels.values()), default=1)
    return timedelta(seconds=timeout + 5) * max(providers, 1)


def configured_kinds(settings: Settings) -> frozenset[ChannelKind]:
    """The kinds ``build(settings, …)`` can deliver, known without building it."""
    return frozenset(package.kind for package in CHANNELS if package.configured(settings))
