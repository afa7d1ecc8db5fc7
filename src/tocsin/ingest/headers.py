"""Reading a request header whatever the mapping that carries it.

HTTP header names are case-insensitive. Starlette's ``Headers`` already looks names up that
way, but formats also receive plain dicts (tests, replays of stored deliveries), so every
lookup goes through ``get``.
"""

from __future__ import annotations

from collections.abc import Mapping


def get(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (any case), or ``None`` when it is absent."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None
