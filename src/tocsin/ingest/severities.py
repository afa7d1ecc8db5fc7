"""Severity words used by monitoring tools, mapped to tocsin's four levels.

Formats with a fixed vocabulary (PagerDuty's enum, Opsgenie's P1 to P5, New Relic's
priorities) keep their own small table in their module; this one serves the free-form
places: an Alertmanager or Grafana ``severity`` label, the generic format's ``severity``.
Matching ignores case and surrounding spaces.

    critical  critical crit fatal emergency emerg alert page disaster p1 sev1 sev0 p0
    error     error err high major p2 sev2
    warning   warning warn medium moderate minor average p3 sev3
    info      info informational information low notice debug none ok p4 p5 sev4 sev5

A word not in the table maps to the caller's default, ``error`` unless it says otherwise:
an alert whose severity cannot be read must still page someone (the original mapped
unknown words to a middle level that some rules never paged).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tocsin.domain.alerts import Severity

# The table of the module docstring, one line per level.
WORDS: dict[Severity, str] = {
    Severity.CRITICAL: "critical crit fatal emergency emerg alert page disaster p0 p1 sev0 sev1",
    Severity.ERROR: "error err high major p2 sev2",
    Severity.WARNING: "warning warn medium moderate minor average p3 sev3",
    Severity.INFO: "info informational information low notice debug none ok p4 p5 sev4 sev5",
}

ALIASES: Mapping[str, Severity] = MappingProxyType(
    {word: severity for severity, words in WORDS.items() for word in words.split()}
)


def from_word(value: object, *, default: Severity = Severity.ERROR) -> Severity:
    """The severity ``value`` names, or ``default`` when it is absent or not in the table."""
    if not isinstance(value, str):
        return default
    return ALIASES.get(value.strip().lower(), default)
