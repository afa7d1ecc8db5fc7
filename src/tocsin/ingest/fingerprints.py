"""The content fingerprint: an alert identity for sources that send none.

``content_fingerprint`` is the SHA-256 (hex) of the canonical JSON of exactly these fields:

    title    whitespace collapsed, case-folded
    source   trimmed, case-folded
    labels   as given (names and values are already strings), keys sorted

Canonical JSON means sorted keys, no insignificant whitespace, UTF-8 without escapes.
Left out on purpose, so that repeats of the same problem share one identity:

* severity: an alert that goes from warning to critical is the same alert (the original put
  severity in its key and split incidents on every change, defect G17);
* timestamps: every repeat carries a new one, so each repeat would become a new alert;
* description and details: free text that templates fill with changing values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from tocsin.domain.alerts import DEDUP_KEY_MAX


def content_fingerprint(*, title: str, source: str, labels: Mapping[str, str]) -> str:
    canonical = {
        "title": " ".join(title.split()).casefold(),
        "source": source.strip().casefold(),
        "labels": dict(sorted(labels.items())),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bounded_key(key: str) -> str:
    """``key``, or its SHA-256 hex when it is longer than an identity may be.

    For sources whose identity has no documented limit (Datadog's template fields): the
    same long key always gives the same digest, so the identity survives the shortening.
    """
    if len(key) <= DEDUP_KEY_MAX:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
