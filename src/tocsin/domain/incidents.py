"""The incident state machine and the rules around it.

    triggered ──acknowledge──▶ acknowledged ──resolve──▶ resolved
        ▲                          │
        └──reopen (ack timeout or ─┘        triggered ──resolve──▶ resolved
            snooze end)

* Only a triggered incident escalates. Acknowledging stops escalation; resolving ends it.
* An acknowledged incident goes back to triggered when the service's acknowledgement
  timeout passes or a snooze ends ("reopen"), and escalation starts over from level 1.
* A resolved incident never reopens: a new trigger for the same alert opens a new incident.
"""

from __future__ import annotations

from enum import StrEnum

from tocsin.domain.alerts import Severity


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Urgency(StrEnum):
    HIGH = "high"
    LOW = "low"


class UrgencyRule(StrEnum):
    """How a service sets the urgency of its incidents."""

    HIGH = "high"
    LOW = "low"
    SEVERITY = "severity"


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


# Which statuses each transition may start from.
CAN_ACKNOWLEDGE = frozenset({IncidentStatus.TRIGGERED})
CAN_SNOOZE = frozenset({IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED})
CAN_RESOLVE = frozenset({IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED})
OPEN = frozenset({IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED})

_HIGH_SEVERITIES = frozenset({Severity.CRITICAL, Severity.ERROR})


def urgency_for(rule: UrgencyRule, severity: Severity) -> Urgency:
    """High for critical and error alerts under the severity rule; otherwise the constant."""
    if rule is UrgencyRule.SEVERITY:
        return Urgency.HIGH if severity in _HIGH_SEVERITIES else Urgency.LOW
    return Urgency(rule.value)
