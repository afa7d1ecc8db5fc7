"""What every provider has.

A provider maps its library's exceptions to an outcome (``domain.deliveries.Sent``,
``Failed`` or ``Unknown``) where it calls the library. The dispatcher, not the provider,
decides on retries, failover and the circuit breaker (``notify/sending.py``).
"""

from __future__ import annotations

from typing import Protocol


class Provider(Protocol):
    # Stable name: the key of its circuit breaker and what deliveries record.
    name: str
