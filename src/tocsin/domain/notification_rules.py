"""Personal notification rules: which channels reach a person, and when, per urgency.

A rule is (urgency, channel kind, delay in minutes): "for high-urgency pages, SMS after
2 minutes if not acknowledged". Each kind appears at most once per urgency, so each
channel goes out at most once per page. ``plan`` turns the rules, the person's verified
contact methods and the kinds tocsin can deliver into the deliveries of one page; whatever
a rule names that cannot be delivered (no verified method, no provider configured) is
reported, never silently dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import timedelta

from tocsin.domain.channels import TIER_OF, ChannelKind, Tier
from tocsin.domain.incidents import Urgency

MAX_DELAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Rule:
    urgency: Urgency
    kind: ChannelKind
    delay_minutes: int


# What a new person starts with: email at once for everything; for high urgency, SMS
# after 2 minutes and a call after 5 (they only apply once a phone is verified and an
# SMS or voice provider is configured).
DEFAULT_RULES = (
    Rule(Urgency.HIGH, ChannelKind.EMAIL, 0),
    Rule(Urgency.HIGH, ChannelKind.PUSH, 0),
    Rule(Urgency.HIGH, ChannelKind.NTFY, 0),
    Rule(Urgency.HIGH, ChannelKind.SLACK, 0),
    Rule(Urgency.HIGH, ChannelKind.TEAMS, 0),
    Rule(Urgency.HIGH, ChannelKind.SMS, 2),
    Rule(Urgency.HIGH, ChannelKind.VOICE, 5),
    Rule(Urgency.LOW, ChannelKind.EMAIL, 0),
    Rule(Urgency.LOW, ChannelKind.PUSH, 0),
    Rule(Urgency.LOW, ChannelKind.NTFY, 0),
)


@dataclass(frozen=True)
class Method:
    """A contact method as the rules see it."""

    id: uuid.UUID
    kind: ChannelKind
    verified: bool


@dataclass(frozen=True)
class Planned:
    method_id: uuid.UUID
    kind: ChannelKind
    tier: Tier
    delay: timedelta


@dataclass(frozen=True)
class Plan:
    deliveries: tuple[Planned, ...]
    # Kinds a rule names that reach nobody, with the reason.
    unreachable: tuple[tuple[ChannelKind, str], ...]


def check(rules: Iterable[Rule]) -> str | None:
    """Why a set of rules is invalid, or None."""
    seen: set[tuple[Urgency, ChannelKind]] = set()
    for rule in rules:
        if not 0 <= rule.delay_minutes <= MAX_DELAY_MINUTES:
            return f"a delay is between 0 and {MAX_DELAY_MINUTES} minutes"
        if (rule.urgency, rule.kind) in seen:
            return f"{rule.kind.value} appears twice for {rule.urgency.value} urgency"
        seen.add((rule.urgency, rule.kind))
    return None


def plan(
    rules: Iterable[Rule],
    methods: Iterable[Method],
    *,
    urgency: Urgency,
    deliverable: Set[ChannelKind],
) -> Plan:
    """The deliveries of one page: one per verified method of each kind a rule names."""
    by_kind: dict[ChannelKind, list[Method]] = {}
    for method in methods:
        by_kind.setdefault(method.kind, []).append(method)
    planned: list[Planned] = []
    unreachable: list[tuple[ChannelKind, str]] = []
    for rule in sorted(rules, key=lambda r: (r.delay_minutes, TIER_OF[r.kind], r.kind.value)):
        if rule.urgency is not urgency:
            continue
        if rule.kind not in deliverable:
            unreachable.append((rule.kind, f"no {rule.kind.value} provider is configured"))
            continue
        verified = [method for method in by_kind.get(rule.kind, []) if method.verified]
        if not verified:
            unreachable.append((rule.kind, f"no verified {rule.kind.value} contact method"))
            continue
        planned.extend(
            Planned(method.id, rule.kind, TIER_OF[rule.kind], timedelta(minutes=rule.delay_minutes))
            for method in verified
        )
    return Plan(tuple(planned), tuple(unreachable))
