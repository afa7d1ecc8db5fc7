"""The circuit breaker of a provider, as pure decisions over its stored state.

    closed ──3 consecutive failures──▶ open ──60 s later, one caller──▶ half-open (probe)
      ▲                                  ▲                               │
      └──────────── the probe succeeds ──┼───────────────────────────────┤
                                         └──────── the probe fails ──────┘

The state lives in the database (``provider_circuit``), so every tocsin process sees the
same breaker; only one caller at a time gets to probe a half-open provider (its probe has
a lease: a prober that dies does not block the provider forever).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

FAILURES_TO_OPEN = 3
OPEN_FOR = timedelta(seconds=60)
PROBE_LEASE = timedelta(seconds=60)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Circuit:
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    open_until: datetime | None = None
    probe_until: datetime | None = None


def admit(circuit: Circuit, now: datetime) -> tuple[bool, Circuit]:
    """Whether a call may go to the provider now, and the state after letting it."""
    if circuit.state is CircuitState.CLOSED:
        return True, circuit
    if circuit.state is CircuitState.OPEN:
        if circuit.open_until is not None and now < circuit.open_until:
            return False, circuit
        return True, replace(circuit, state=CircuitState.HALF_OPEN, probe_until=now + PROBE_LEASE)
    if circuit.probe_until is not None and now < circuit.probe_until:
        return False, circuit  # someone else is probing
    return True, replace(circuit, probe_until=now + PROBE_LEASE)


def succeeded(circuit: Circuit) -> Circuit:
    return Circuit()


def failed(circuit: Circuit, now: datetime) -> Circuit:
    failures = circuit.failures + 1
    if circuit.state is CircuitState.HALF_OPEN or failures >= FAILURES_TO_OPEN:
        return Circuit(CircuitState.OPEN, failures, open_until=now + OPEN_FOR)
    return replace(circuit, failures=failures)
