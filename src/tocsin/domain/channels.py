"""Notification channels: the seven kinds, how intrusive each is, and the tiers they form.

Tiers are the channel escalation the original design decided (pagefree-spec §4.2): the
non-intrusive channels (email, push, ntfy, Slack, Teams) go out together; SMS goes out
when every non-intrusive delivery of the page has finally failed, or when its rule's
delay comes, whichever is first; voice follows SMS on the same rule. A tier is released when every
delivery of every lower tier has finally failed, so an empty lower tier releases it at once:
someone whose only method is a phone is still paged (the original left them with nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum


class ChannelKind(StrEnum):
    EMAIL = "email"
    PUSH = "push"
    SLACK = "slack"
    TEAMS = "teams"
    SMS = "sms"
    VOICE = "voice"
    NTFY = "ntfy"

    @property
    def label(self) -> str:
        """The channel as people name it on a page ("SMS", "Web push")."""
        return LABELS[self]


LABELS: Mapping[ChannelKind, str] = {
    ChannelKind.EMAIL: "Email",
    ChannelKind.PUSH: "Web push",
    ChannelKind.SLACK: "Slack",
    ChannelKind.TEAMS: "Microsoft Teams",
    ChannelKind.SMS: "SMS",
    ChannelKind.VOICE: "Voice call",
    ChannelKind.NTFY: "ntfy",
}


class Tier(IntEnum):
    GENTLE = 0
    SMS = 1
    VOICE = 2


TIER_OF: Mapping[ChannelKind, Tier] = {
    ChannelKind.EMAIL: Tier.GENTLE,
    ChannelKind.PUSH: Tier.GENTLE,
    ChannelKind.SLACK: Tier.GENTLE,
    ChannelKind.TEAMS: Tier.GENTLE,
    ChannelKind.SMS: Tier.SMS,
    ChannelKind.VOICE: Tier.VOICE,
    ChannelKind.NTFY: Tier.GENTLE,
}

# Sends allowed per contact method of a kind, as (count, window): more than that in the
# window is not dropped but collected into one digest sent when the window allows.
# A phone is rate limited as GoAlert does (one message a minute per number); the other
# kinds are not, so a burst of email pages is never slowed down.
RATE_LIMITS: Mapping[ChannelKind, tuple[int, timedelta]] = {
    ChannelKind.SMS: (1, timedelta(minutes=1)),
    ChannelKind.VOICE: (1, timedelta(minutes=1)),
}


def rate_limited_until(
    kind: ChannelKind, recent_sends: Sequence[datetime], now: datetime
) -> datetime | None:
    """When a method of ``kind`` may next be sent to, if its limit is reached at ``now``
    (``recent_sends``: when it was sent to lately, in any order)."""
    limit = RATE_LIMITS.get(kind)
    if limit is None:
        return None
    count, window = limit
    within = sorted(sent for sent in recent_sends if sent > now - window)
    if len(within) < count:
        return None
    return within[len(within) - count] + window


def intrusive(kind: ChannelKind) -> bool:
    return TIER_OF[kind] is not Tier.GENTLE


def released_tiers(finally_failed: Mapping[Tier, Iterable[bool]]) -> set[Tier]:
    """The tiers whose every lower tier has finally failed (``finally_failed`` maps a tier
    to whether each of its deliveries has). Tier 0 is always released."""
    released: set[Tier] = set()
    lower_all_failed = True
    for tier in Tier:
        if lower_all_failed:
            released.add(tier)
        lower_all_failed = lower_all_failed and all(finally_failed.get(tier, ()))
    return released
