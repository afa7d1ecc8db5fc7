"""The inbound formats tocsin speaks, one module each, and the registry that names them.

``FORMATS`` maps each integration type's name to its format. ``registry(new_key=…)``
builds the same set with another key factory (tests make generated keys predictable).
``SignedFormat`` tells which formats can verify a signature (``signed``).

Routes beyond the shared ``POST /ingest/{integration_key}`` are format-specific:
PagerDuty's ``/v2/enqueue`` and ``/v2/change/enqueue`` (``PagerDutyEventsV2.parse_change``)
and Opsgenie's ``/v2/alerts`` family (``Opsgenie.parse_action``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from tocsin.ingest.formats.alertmanager import Alertmanager
from tocsin.ingest.formats.base import Format, KeyFactory, SignedFormat, new_uuid_key
from tocsin.ingest.formats.datadog import Datadog
from tocsin.ingest.formats.generic import Generic
from tocsin.ingest.formats.grafana import Grafana
from tocsin.ingest.formats.newrelic import NewRelic
from tocsin.ingest.formats.opsgenie import Opsgenie
from tocsin.ingest.formats.pagerduty_events_v2 import PagerDutyEventsV2

__all__ = ["FORMATS", "Format", "SignedFormat", "registry", "signed"]


def registry(*, new_key: KeyFactory = new_uuid_key) -> Mapping[str, Format[Any]]:
    """Every format by name; ``new_key`` makes the keys of triggers that bring none."""
    formats: list[Format[Any]] = [
        PagerDutyEventsV2(new_key=new_key),
        Alertmanager(),
        Grafana(),
        Opsgenie(new_key=new_key),
        Datadog(),
        NewRelic(),
        Generic(),
    ]
    return MappingProxyType({format_.name: format_ for format_ in formats})


FORMATS: Mapping[str, Format[Any]] = registry()


def signed(format_: Format[Any]) -> SignedFormat[Any] | None:
    """The format as a ``SignedFormat`` when its source can sign requests, else ``None``."""
    return format_ if isinstance(format_, SignedFormat) else None
