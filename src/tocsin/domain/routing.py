"""Routing rules: which service an alert from a global integration belongs to.

An integration either belongs to one service, or is global: an ordered list of rules, each
a set of conditions that must all hold, and a fallback service. The first rule whose
conditions all hold wins; an alert that matches none goes to the fallback, so nothing is
ever dropped. Conditions read a field of the alert (``title``, ``severity``, ``source``,
``description``, ``dedup_key``) or one of its labels (``labels.<name>``) and compare it for
equality or against a regular expression (a search; anchor it with ``^…$`` for a full
match). A missing label never matches, not even ``equals ""``.

Patterns run with the ``regex`` library and a time limit, not the standard ``re``: a
pattern like ``(a+)+$`` can backtrack for minutes on a crafted value, and intake must not
stall behind it. A pattern that runs out of time counts as not matching, so the alert
goes on to the next rule or the fallback service, never nowhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import regex

from tocsin.domain.alerts import InboundAlert

FIELDS = ("title", "severity", "source", "description", "dedup_key")
LABEL_PREFIX = "labels."
MAX_PATTERN_LENGTH = 500
PATTERN_TIMEOUT = 0.05  # seconds, per condition and alert


class Operator(StrEnum):
    EQUALS = "equals"
    MATCHES = "matches"


@dataclass(frozen=True)
class Condition:
    field: str
    operator: Operator
    value: str


@dataclass(frozen=True)
class Rule:
    service_id: uuid.UUID
    conditions: tuple[Condition, ...]


def problem_with(condition: Condition) -> str | None:
    """Why a condition cannot be used, or ``None``: validated on every write."""
    if condition.field not in FIELDS and not (
        condition.field.startswith(LABEL_PREFIX) and len(condition.field) > len(LABEL_PREFIX)
    ):
        return f"field must be one of {', '.join(FIELDS)} or labels.<name>"
    if condition.operator is Operator.MATCHES:
        if len(condition.value) > MAX_PATTERN_LENGTH:
            return f"a pattern has at most {MAX_PATTERN_LENGTH} characters"
        try:
            _compiled(condition.value)
        except regex.error as error:
            return f"not a valid regular expression: {error}"
    return None


def field_value(alert: InboundAlert, field: str) -> str | None:
    if field.startswith(LABEL_PREFIX):
        return alert.labels.get(field.removeprefix(LABEL_PREFIX))
    value = getattr(alert, field)
    return str(value.value if hasattr(value, "value") else value)


def matches(alert: InboundAlert, condition: Condition) -> bool:
    value = field_value(alert, condition.field)
    if value is None:
        return False
    if condition.operator is Operator.EQUALS:
        return value == condition.value
    try:
        return _compiled(condition.value).search(value, timeout=PATTERN_TIMEOUT) is not None
    except TimeoutError:
        return False


def route(
    alert: InboundAlert, rules: Sequence[Rule], fallback: uuid.UUID
) -> tuple[uuid.UUID, int | None]:
    """The service for ``alert`` and the 1-based position of the rule that chose it
    (``None`` when the fallback did)."""
    for position, rule in enumerate(rules, start=1):
        if all(matches(alert, condition) for condition in rule.conditions):
            return rule.service_id, position
    return fallback, None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)
