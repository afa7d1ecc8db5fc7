"""New Relic Workflows: the webhook destination's default issue payload.

Source: New Relic applied intelligence workflows, "Webhook" destination with the default
payload template (Handlebars: ``{{issueId}}``, ``{{state}}`` …); protocols.md §1.6.
The legacy alert-channel webhook (``current_state``, ``incident_id``) is retired by New
Relic and not read.

Identity: ``id`` (the issue id, a UUID). An issue is New Relic's correlated problem: the
one object that goes from activated to acknowledged to closed.

Actions, from ``state``:

    ACTIVATED     trigger (every update of an active issue: priority changes, new incidents)
    ACKNOWLEDGED  acknowledge
    CLOSED        resolve (the original ignored it, defect G18)
    CREATED       ignored (``UnsupportedEvent``): New Relic creates an issue before it
                  activates it and notifies again on activation; paging on creation
                  would page for issues that are never activated
    anything else ignored, with the state named in the reason

Quirks: ``isCorrelated`` arrives as a boolean or as the string ``"false"``; ``createdAt``
and ``updatedAt`` are epoch milliseconds; ``title`` is the first title annotation. New
Relic cannot sign: authenticate with a header set on the destination.

Severity: ``priority`` CRITICAL critical, HIGH error, MEDIUM warning, LOW info; else error.

Mapping: title → title; ``description`` (custom templates) → description;
impactedEntities[0] → source; createdAt → occurred_at; issueUrl → "New Relic" link;
labels: priority, workflow, policies, conditions, entities, sources (lists joined with
commas), plus a custom ``labels`` object when the template adds one; the rest → details.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pydantic

from tocsin.domain.alerts import DEDUP_KEY_MAX, AlertAction, InboundAlert, Link, Severity
from tocsin.ingest import labels as label_rules
from tocsin.ingest import timestamps
from tocsin.ingest.errors import MalformedPayload, UnsupportedEvent
from tocsin.ingest.formats.base import WireModel, as_text, validate
from tocsin.ingest.json_body import load_json

PRIORITIES: Mapping[str, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.ERROR,
    "MEDIUM": Severity.WARNING,
    "LOW": Severity.INFO,
}
ACTIONS: Mapping[str, AlertAction] = {
    "ACTIVATED": AlertAction.TRIGGER,
    "ACKNOWLEDGED": AlertAction.ACKNOWLEDGE,
    "CLOSED": AlertAction.RESOLVE,
}


class NewRelicIssue(WireModel):
    id: str
    issueUrl: str | None = None
    title: str | None = None
    description: str | None = None
    priority: str | None = None
    impactedEntities: list[str] = pydantic.Field(default_factory=list)
    totalIncidents: int | None = None
    state: str
    trigger: str | None = None
    isCorrelated: bool | None = None  # "false" arrives as text too; read as a boolean
    createdAt: int | float | str | None = None
    updatedAt: int | float | str | None = None
    sources: list[str] = pydantic.Field(default_factory=list)
    alertPolicyNames: list[str] = pydantic.Field(default_factory=list)
    alertConditionNames: list[str] = pydantic.Field(default_factory=list)
    workflowName: str | None = None
    labels: dict[str, Any] = pydantic.Field(default_factory=dict)


class NewRelic:
    name = "newrelic"

    def parse(self, body: bytes, headers: Mapping[str, str]) -> NewRelicIssue:
        issue = validate(NewRelicIssue, load_json(body))
        if not issue.id.strip() or len(issue.id) > DEDUP_KEY_MAX:
            raise MalformedPayload("id", f"id: needs 1 to {DEDUP_KEY_MAX} characters")
        state = issue.state.strip().upper()
        if state not in ACTIONS:
            reason = (
                "the issue is only created; tocsin pages when New Relic activates it"
                if state == "CREATED"
                else f"tocsin acts on ACTIVATED, ACKNOWLEDGED and CLOSED issues, not {state}"
            )
            raise UnsupportedEvent(reason)
        return issue

    def to_alerts(self, payload: NewRelicIssue, *, received_at: datetime) -> list[InboundAlert]:
        issue = payload
        named = {
            "priority": issue.priority,
            "workflow": issue.workflowName,
            "policies": ",".join(issue.alertPolicyNames),
            "conditions": ",".join(issue.alertConditionNames),
            "entities": ",".join(issue.impactedEntities),
            "sources": ",".join(issue.sources),
        }
        labels = {**label_rules.flatten(issue.labels), **{k: v for k, v in named.items() if v}}
        action = ACTIONS[issue.state.strip().upper()]
        conditions = issue.alertConditionNames
        title = as_text(issue.title) or (conditions[0] if conditions else "")
        return [
            InboundAlert(
                action=action,
                dedup_key=issue.id.strip(),
                title=title or f"New Relic issue {issue.id.strip()}",
                description=as_text(issue.description),
                severity=PRIORITIES.get(as_text(issue.priority).upper(), Severity.ERROR),
                source=issue.impactedEntities[0] if issue.impactedEntities else "",
                occurred_at=timestamps.parse_instant(issue.createdAt),
                links=(Link(issue.issueUrl, "New Relic"),) if issue.issueUrl else (),
                labels=labels,
                details=issue.model_dump(
                    exclude={"id", "title", "description", "issueUrl", "labels"},
                    exclude_none=True,
                ),
            )
        ]
