from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from tocsin.api.schemas.common import RequestBody, ResponseBody
from tocsin.domain.access import TeamRole


class TeamRead(ResponseBody):
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


class TeamCreate(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)


class TeamUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class MemberRead(ResponseBody):
    user_id: uuid.UUID
    email: str
    name: str
    role: TeamRole
    joined_at: datetime


class MemberAdd(RequestBody):
    user_id: uuid.UUID
    role: TeamRole = TeamRole.RESPONDER


class MemberUpdate(RequestBody):
    role: TeamRole
