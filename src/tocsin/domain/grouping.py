"""Grouping: which alerts share one incident.

By default every alert is its own incident. An integration may instead name fields
(``labels.alertname``, ``labels.cluster``, ``source``, …, the same names routing uses) whose
values, together, form a group key: a new alert joins the open incident of the same service
with the same key if that incident received an alert within the window, so a storm that
keeps firing stays one incident (the window slides with each alert instead of counting from
the incident's creation, which opened a fresh incident every window in the original).
Alerts that join page nobody. A missing field counts as an empty value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from tocsin.domain.alerts import InboundAlert
from tocsin.domain.routing import field_value


def group_key(alert: InboundAlert, fields: Sequence[str]) -> str | None:
    """A stable digest of the named fields' values, or ``None`` when grouping is off."""
    if not fields:
        return None
    values = [[name, field_value(alert, name) or ""] for name in fields]
    return hashlib.sha256(json.dumps(values, separators=(",", ":")).encode()).hexdigest()
