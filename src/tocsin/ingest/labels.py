"""Turning a source's metadata into flat string labels for routing and grouping rules.

Rules match on ``labels[name] == value``, so every label is a string:

* nested objects flatten with dots (``{"k8s": {"ns": "prod"}}`` → ``k8s.ns=prod``);
* ``true``/``false``/numbers are written as JSON writes them; ``null`` is left out;
* a list of scalars becomes its comma-joined text; lists of objects stay in ``details``;
* tag lists (Datadog ``env:prod,team:db``, Opsgenie ``tags``) give one label per
  ``key:value`` tag, and the whole list as ``tags`` so bare tags can be matched too.

Limits keep one noisy source from bloating every incident: at most ``MAX_LABELS`` labels,
names up to ``MAX_NAME`` and values up to ``MAX_VALUE`` characters (longer values are cut).
``details`` always keep the full data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

MAX_LABELS = 128
MAX_NAME = 128
MAX_VALUE = 1024
MAX_DEPTH = 4


def _scalar_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _text_of(value: object) -> str | None:
    """The label text of a scalar or a list of scalars; ``None`` for anything else."""
    text = _scalar_text(value)
    if text is not None:
        return text
    if isinstance(value, list):
        parts = [_scalar_text(item) for item in value]
        if all(part is not None for part in parts):
            return ",".join(part for part in parts if part is not None)
    return None


def flatten(values: Mapping[str, Any], *, prefix: str = "") -> dict[str, str]:
    """``values`` as flat string labels, names joined with dots, within the limits above."""
    labels: dict[str, str] = {}
    _flatten_into(labels, values, prefix, depth=0)
    return labels


def _flatten_into(
    labels: dict[str, str], values: Mapping[str, Any], prefix: str, depth: int
) -> None:
    for key, value in values.items():
        if len(labels) >= MAX_LABELS:
            return
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if depth + 1 < MAX_DEPTH:
                _flatten_into(labels, value, f"{name}.", depth + 1)
            continue
        text = _text_of(value)
        if text is not None and 0 < len(name) <= MAX_NAME:
            labels[name] = text[:MAX_VALUE]


def split_tags(text: str) -> list[str]:
    """Datadog's ``$TAGS``: one comma-separated string, spaces around tags ignored."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def from_tags(tags: Iterable[str]) -> dict[str, str]:
    """``key:value`` tags as labels (the first colon splits), plus ``tags`` with all of them."""
    kept = [tag.strip() for tag in tags if tag.strip()]
    labels: dict[str, str] = {}
    for tag in kept:
        key, colon, value = tag.partition(":")
        if colon and key.strip() and len(labels) < MAX_LABELS - 1:
            labels[key.strip()[:MAX_NAME]] = value.strip()[:MAX_VALUE]
    if kept:
        labels["tags"] = ",".join(kept)[:MAX_VALUE]
    return labels
