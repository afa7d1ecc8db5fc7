from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, Field

from tocsin.api.schemas.common import RequestBody, ResponseBody
from tocsin.domain.access import Scope


class ApiKeyCreate(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_at: AwareDatetime | None = None


class ApiKeyRead(ResponseBody):
    id: uuid.UUID
    name: str
    display_prefix: str
    scopes: list[str]
    created_by_user_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself. Shown only in this response; store it now.")
