"""Request and response bodies for integrations.

An integration sends either to one service (`service_id`) or through ordered
`routing_rules` with a `fallback_service_id` for alerts no rule matches. The key and the
signing secret are returned once, when made; reads show only the key's first characters.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from tocsin.api.schemas.common import RequestBody, ResponseBody
from tocsin.db.models.integrations import HeartbeatState, IntegrationKind
from tocsin.domain import routing

FIELD_DESCRIPTION = "title, severity, source, description, dedup_key, or labels.<name>"
HeartbeatInterval = Field(
    default=None,
    ge=1,
    le=10080,
    description="Heartbeats only: minutes between pings before the heartbeat pages",
)


class ConditionBody(RequestBody):
    field: str = Field(min_length=1, max_length=200, description=FIELD_DESCRIPTION)
    operator: routing.Operator = Field(
        description="`equals`, or `matches`: a regular expression searched in the value"
    )
    value: str = Field(max_length=routing.MAX_PATTERN_LENGTH)


class RoutingRuleBody(RequestBody):
    service_id: uuid.UUID
    conditions: list[ConditionBody] = Field(
        min_length=1, max_length=20, description="All must hold for the rule to match"
    )


class GroupingBody(RequestBody):
    fields: list[str] = Field(
        default_factory=list,
        max_length=10,
        description=f"Alerts with the same values share an incident: {FIELD_DESCRIPTION}",
    )
    window_minutes: int | None = Field(
        default=None,
        ge=1,
        le=10080,
        description="Join an open incident only if it had an alert this recently",
    )


class IntegrationCreate(RequestBody):
    name: str = Field(min_length=1, max_length=100, description="Unique, whatever the case")
    kind: IntegrationKind
    service_id: uuid.UUID | None = Field(
        default=None, description="Send everything here; or give routing rules and a fallback"
    )
    routing_rules: list[RoutingRuleBody] = Field(
        default_factory=list, max_length=50, description="In order; the first match wins"
    )
    fallback_service_id: uuid.UUID | None = Field(
        default=None, description="Where alerts no rule matches go"
    )
    grouping: GroupingBody = Field(default_factory=GroupingBody)
    signing: bool = Field(
        default=False,
        description="grafana and generic only: tocsin makes a signing secret, shown once",
    )
    heartbeat_interval_minutes: int | None = HeartbeatInterval


class IntegrationUpdate(RequestBody):
    """Only the fields sent change. `service_id`, `routing_rules` and `fallback_service_id`
    are replaced together: send `service_id`, or `fallback_service_id` with the rules.
    `grouping` replaces the fields and the window together. `signing: true` makes a new
    secret (shown once) if there is none; `false` removes it."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    service_id: uuid.UUID | None = None
    routing_rules: list[RoutingRuleBody] | None = Field(default=None, max_length=50)
    fallback_service_id: uuid.UUID | None = None
    grouping: GroupingBody | None = None
    signing: bool | None = None
    heartbeat_interval_minutes: int | None = HeartbeatInterval
    is_enabled: bool | None = Field(
        default=None, description="A disabled integration answers its senders as unknown"
    )


class ConditionRead(ResponseBody):
    field: str
    operator: routing.Operator
    value: str


class RoutingRuleRead(ResponseBody):
    service_id: uuid.UUID
    conditions: list[ConditionRead]


class GroupingRead(ResponseBody):
    fields: list[str]
    window_minutes: int | None


class IntegrationRead(ResponseBody):
    id: uuid.UUID
    name: str
    kind: IntegrationKind
    key_prefix: str = Field(description="The key's first characters, to recognise it")
    service_id: uuid.UUID | None
    routing_rules: list[RoutingRuleRead]
    fallback_service_id: uuid.UUID | None
    grouping: GroupingRead
    signing: bool = Field(description="Whether requests must be signed")
    heartbeat_interval_minutes: int | None
    heartbeat_state: HeartbeatState | None
    heartbeat_expires_at: datetime | None
    is_enabled: bool
    created_at: datetime
    updated_at: datetime
    last_event_at: datetime | None


class EndpointRead(ResponseBody):
    method: str
    url: str
    description: str
    headers: dict[str, str] = Field(description="Headers the sender must add")
    body_fields: dict[str, str] = Field(description="Fields the sender must put in the body")


class IntegrationUpdated(IntegrationRead):
    signing_secret: str | None = Field(
        default=None, description="Shown once, when signing was just turned on"
    )


class IntegrationKeyIssued(IntegrationUpdated):
    """A new key with the ready-to-paste endpoints; shown this once, stored as SHA-256."""

    key: str
    endpoints: list[EndpointRead]
