"""What the database says changed: ``<incident id> <team id> <kind>`` on ``tocsin_live``.

The triggers of migration 0013 send one on commit for every incident created or changed,
every timeline event and every delivery whose status moves (see the migration for the
kinds). A payload this process cannot read is ignored, never fatal: the listener must
outlive a newer server's payloads during a rolling upgrade.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

LIVE_CHANNEL = "tocsin_live"


@dataclass(frozen=True)
class Change:
    incident_id: uuid.UUID
    team_id: uuid.UUID
    kind: str


def parse(payload: str) -> Change | None:
    parts = payload.split(" ")
    if len(parts) != 3 or not parts[2]:
        return None
    try:
        return Change(uuid.UUID(parts[0]), uuid.UUID(parts[1]), parts[2])
    except ValueError:
        return None
