"""Request and response bodies for a service's or a team's shared places
(``post-targets``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from tocsin.api.schemas.common import RequestBody, ResponseBody
from tocsin.domain.channels import ChannelKind


class PostTargetCreate(RequestBody):
    kind: ChannelKind = Field(description="A channel that posts to shared places: slack, teams")
    address: str = Field(
        min_length=1,
        max_length=2048,
        description="A Slack channel id (C…), or a Teams Workflows webhook URL",
    )
    label: str = Field(default="", max_length=100, description="What people call the place")


class PostTargetRead(ResponseBody):
    id: uuid.UUID
    service_id: uuid.UUID | None = Field(
        description="The service whose place it is, if a service's"
    )
    team_id: uuid.UUID | None = Field(description="The team whose place it is, if a team's")
    kind: ChannelKind
    label: str
    address: str = Field(description="Masked: a Workflows URL is a credential")
    broken_at: datetime | None
    broken_reason: str | None
    created_at: datetime
