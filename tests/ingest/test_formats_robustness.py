"""No body makes a format fail in any way but the two it declares.

A crash in ``parse`` or ``to_alerts`` would answer 500, and every sender retries a 500:
a bad body would come back forever instead of being refused once. So, for any JSON built
from the field names the formats know, ``parse`` either returns a payload that maps
cleanly, or raises ``MalformedPayload`` or ``UnsupportedEvent``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.domain.alerts import AlertAction
from tocsin.ingest.errors import MalformedPayload, UnsupportedEvent
from tocsin.ingest.formats import FORMATS

RECEIVED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EXAMPLES = files("tocsin.ingest") / "examples"


def _names(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {name for item in value.values() for name in _names(item)}
    if isinstance(value, list):
        return {name for item in value for name in _names(item)}
    return set()


def _vocabulary() -> list[str]:
    names: set[str] = set()
    for folder in EXAMPLES.iterdir():
        for entry in folder.iterdir():
            try:
                names |= _names(json.loads(entry.read_text()))
            except ValueError:
                continue
    return sorted(names)


VOCABULARY = _vocabulary()
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "firing", "resolved", "trigger", "resolve", "P1", "CLOSED", "0"]),
    st.text(max_size=20),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(VOCABULARY), inner, max_size=8),
    ),
    max_leaves=30,
)


def _survives(name: str, body: bytes) -> None:
    format_ = FORMATS[name]
    try:
        payload = format_.parse(body, {})
    except (MalformedPayload, UnsupportedEvent):
        return
    for alert in format_.to_alerts(payload, received_at=RECEIVED_AT):
        json.dumps(alert.as_json())
        assert alert.action is not AlertAction.TRIGGER or alert.title


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.sampled_from(VOCABULARY), JSON, max_size=12))
def test_any_object_is_mapped_or_refused_cleanly(name: str, data: dict[str, Any]) -> None:
    _survives(name, json.dumps(data).encode())


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=40, deadline=None)
@given(body=st.one_of(st.binary(max_size=64), JSON.map(lambda value: json.dumps(value).encode())))
def test_any_bytes_are_mapped_or_refused_cleanly(name: str, body: bytes) -> None:
    _survives(name, body)


def _examples(name: str) -> list[Any]:
    found = []
    for entry in sorted((EXAMPLES / name).iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".http.json"):
            continue
        try:
            found.append(json.loads(entry.read_text()))
        except ValueError:
            continue
    return found


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a subtree can be swapped, the root included."""
    places = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            places += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            places += _paths(item, (*prefix, index))
    return places


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_real_body_with_any_part_replaced_is_mapped_or_refused_cleanly(
    name: str, data: st.DataObject
) -> None:
    example = data.draw(st.sampled_from(_examples(name)))
    path = data.draw(st.sampled_from(_paths(example)))
    _survives(name, json.dumps(_replaced(example, path, data.draw(JSON))).encode())
