"""Opsgenie Alert API, the subset tools use to page: create, acknowledge and close by alias.

Source: Opsgenie Alert API v2 (``api.opsgenie.com``); protocols.md §1.4. Alertmanager's
``opsgenie_configs``, Grafana's Opsgenie contact point and scripts written for Opsgenie
can point their API URL at tocsin (Opsgenie's APIs stop on 2027-04-05: this is the
migration path).

Requests, each answered 202 with ``accepted_body`` (Opsgenie's writes are asynchronous):

    POST /v2/alerts                                   create: ``parse``
    POST /v2/alerts/{identifier}/acknowledge          ``parse_action(..., "acknowledge")``
    POST /v2/alerts/{identifier}/close                ``parse_action(..., "close")``

authenticated with ``Authorization: GenieKey <key>`` (``genie_key`` reads it); the route
derives the action from the path and passes it in.

Identity: ``alias``. A create without one gets a new random key: in Opsgenie such an alert
can only be closed by its Opsgenie id, which tocsin never hands out. Actions must name
the alert by alias (``?identifierType=alias``); an ``id`` or ``tiny`` identifier refers to
Opsgenie's own ids, so it is answered as an ``UnsupportedEvent`` (202 with the reason), as
Opsgenie itself accepts a request and fails it later.

Resolves: ``close``. Acknowledges: ``acknowledge``.

Validation: ``message`` is required; ``alias`` is at most 512 characters; ``priority`` is
``P1`` to ``P5`` (default ``P3``). Opsgenie's other limits (message 130, description
15000, 20 tags) truncate there; tocsin keeps the text up to its own title limit instead
of refusing a page.

Severity: P1 critical, P2 error, P3 warning, P4 info, P5 info.

Mapping: message → title; description → description; source → source; entity, and
details (Opsgenie's string map) → labels; ``key:value`` tags → labels plus ``tags``;
responders, visibleTo, actions, user, note, entity, details → details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import pydantic

from tocsin.domain.alerts import DEDUP_KEY_MAX, AlertAction, InboundAlert, Severity
from tocsin.ingest import headers as header
from tocsin.ingest import labels as label_rules
from tocsin.ingest.errors import FieldError, MalformedPayload, UnsupportedEvent
from tocsin.ingest.formats.base import (
    KeyFactory,
    WireModel,
    malformed,
    new_uuid_key,
    validate,
)
from tocsin.ingest.json_body import load_json

PRIORITIES: Mapping[str, Severity] = {
    "P1": Severity.CRITICAL,
    "P2": Severity.ERROR,
    "P3": Severity.WARNING,
    "P4": Severity.INFO,
    "P5": Severity.INFO,
}


class OpsgenieAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CLOSE = "close"


class CreateAlert(WireModel):
    message: str
    alias: str | None = None
    description: str | None = None
    responders: list[dict[str, Any]] = pydantic.Field(default_factory=list)
    visibleTo: list[dict[str, Any]] = pydantic.Field(default_factory=list)
    actions: list[str] = pydantic.Field(default_factory=list)
    tags: list[str] = pydantic.Field(default_factory=list)
    details: dict[str, str] = pydantic.Field(default_factory=dict)
    entity: str | None = None
    source: str | None = None
    priority: Literal["P1", "P2", "P3", "P4", "P5"] = "P3"
    user: str | None = None
    note: str | None = None


class ActionBody(WireModel):
    user: str | None = None
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class AlertActionRequest:
    """An acknowledge or close of the alert whose alias is ``alias``."""

    action: OpsgenieAction
    alias: str
    body: ActionBody


OpsgenieRequest = CreateAlert | AlertActionRequest


def genie_key(headers: Mapping[str, str]) -> str | None:
    """The key of ``Authorization: GenieKey <key>``, or ``None`` without one."""
    value = header.get(headers, "Authorization") or ""
    scheme, _, key = value.strip().partition(" ")
    if scheme.lower() != "geniekey" or not key.strip():
        return None
    return key.strip()


def accepted_body(request_id: str, took: float = 0.0) -> dict[str, Any]:
    """Opsgenie's 202 body; ``request_id`` identifies the request, as Opsgenie's does."""
    return {"result": "Request will be processed", "took": took, "requestId": request_id}


def _check_alias(alias: str | None, field: str) -> None:
    if alias is not None and len(alias) > DEDUP_KEY_MAX:
        raise MalformedPayload(field, f"{field}: must be at most {DEDUP_KEY_MAX} characters")


class Opsgenie:
    name = "opsgenie"

    def __init__(self, *, new_key: KeyFactory = new_uuid_key) -> None:
        self._new_key = new_key

    def parse(self, body: bytes, headers: Mapping[str, str]) -> CreateAlert:
        """The body of ``POST /v2/alerts``."""
        create = validate(CreateAlert, load_json(body))
        if not create.message.strip():
            raise malformed([FieldError("message", "message: must not be empty")])
        _check_alias(create.alias, "alias")
        return create

    def parse_action(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        action: OpsgenieAction,
        identifier: str,
        identifier_type: str | None,
    ) -> AlertActionRequest:
        """The request of ``POST /v2/alerts/{identifier}/{action}?identifierType=…``.

        An empty body is allowed: every field of an action body is optional.
        """
        kind = (identifier_type or "id").lower()
        if kind != "alias":
            raise UnsupportedEvent(
                f"tocsin finds Opsgenie alerts by alias only; identifierType={kind} names "
                "an Opsgenie id. Send identifierType=alias."
            )
        if not identifier.strip():
            raise MalformedPayload("identifier", "identifier: must not be empty")
        _check_alias(identifier, "identifier")
        parsed = validate(ActionBody, load_json(body) if body.strip() else {})
        return AlertActionRequest(action=action, alias=identifier, body=parsed)

    def to_alerts(self, payload: OpsgenieRequest, *, received_at: datetime) -> list[InboundAlert]:
        if isinstance(payload, AlertActionRequest):
            action = (
                AlertAction.ACKNOWLEDGE
                if payload.action is OpsgenieAction.ACKNOWLEDGE
                else AlertAction.RESOLVE
            )
            return [
                InboundAlert(
                    action=action,
                    dedup_key=payload.alias,
                    title="",
                    severity=Severity.INFO,
                    source=payload.body.source or "",
                    details=payload.body.model_dump(exclude_none=True),
                )
            ]
        alias = (payload.alias or "").strip()
        labels = {**label_rules.from_tags(payload.tags), **payload.details}
        if payload.entity:
            labels["entity"] = payload.entity
        extra = payload.model_dump(
            include={"responders", "visibleTo", "actions", "user", "note", "entity", "details"},
            exclude_none=True,
        )
        return [
            InboundAlert(
                action=AlertAction.TRIGGER,
                dedup_key=alias or self._new_key(),
                dedup_key_generated=not alias,
                title=payload.message,
                description=payload.description or "",
                severity=PRIORITIES[payload.priority],
                source=payload.source or "",
                labels=labels,
                details={key: value for key, value in extra.items() if value not in ([], {})},
            )
        ]
