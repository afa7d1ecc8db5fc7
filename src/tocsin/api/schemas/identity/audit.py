from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tocsin.api.schemas.common import ResponseBody
from tocsin.domain.access import PrincipalKind


class AuditEventRead(ResponseBody):
    id: int
    occurred_at: datetime
    actor_kind: PrincipalKind
    actor_id: uuid.UUID | None
    actor_label: str
    action: str
    resource_type: str
    resource_id: str | None
    team_id: uuid.UUID | None
    details: dict[str, Any]
    ip_address: str | None
    user_agent: str | None
