"""What became of each Opsgenie request, kept so that ``GET /v2/alerts/requests/{id}`` can say.

Opsgenie's writes are asynchronous: each answers 202 with a ``requestId``, and clients (the
official SDKs' ``get_request_status`` and ``retrieve_result``) poll the request's status to
learn whether it worked and which alert it touched. tocsin's writes are synchronous (the
202 is sent once the change is committed), so the status is known when the answer is
made. It is stored with the answer in the integration's log (``inbound_event.response``,
under ``STATUS_MEMBER``, which is never sent) and read back from there: no table of its own.

A request id is a UUIDv7 whose time is the instant the request is logged under
(``inbound_event.received_at``, the request's ``now``), so a lookup reads a moment of one
integration's log through its (integration, time) index instead of scanning the whole log.
Python's ``uuid`` has no version 7 before 3.14, and the packages that make one read the
wall clock; the id must carry the injected clock's instant, hence ``new_request_id``.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.actions.intake import pipeline
from tocsin.actions.intake.triggers import Applied, Result
from tocsin.ingest.formats.opsgenie import OpsgenieAction, accepted_body

STATUS_MEMBER = "tocsinRequestStatus"
# Opsgenie's names of the three requests tocsin takes.
CREATE = "Create"
ACTIONS = {OpsgenieAction.ACKNOWLEDGE: "Acknowledge", OpsgenieAction.CLOSE: "Close"}
# Opsgenie's own wording where tocsin's outcome is Opsgenie's; tocsin's elsewhere.
_SUCCEEDED = {
    Result.CREATED: "Created alert",
    Result.GROUPED: "Created alert",
    Result.DEDUPLICATED: "Alert deduplicated",
    Result.ACKNOWLEDGED: "Acknowledged",
    Result.RESOLVED: "Closed",
}
NOT_FOUND_MESSAGE = "Request not found. It might not be processed, yet."
# The logged instant and the id's millisecond are the same ``now``; the margin only
# makes the lookup indifferent to how the id rounds it.
_MARGIN = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def new_request_id(at: datetime) -> str:
    """A UUIDv7 (RFC 9562 §5.7) for a request logged at ``at``."""
    milliseconds = (at - _EPOCH) // _MS
    value = (milliseconds & (1 << 48) - 1) << 80 | int.from_bytes(secrets.token_bytes(10))
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC's variant
    return str(uuid.UUID(int=value))


def logged_around(request_id: str) -> tuple[datetime, datetime] | None:
    """The stretch of the log a request id made by ``new_request_id`` was logged in;
    ``None`` for any other text (it names no request of tocsin's)."""
    try:
        parsed = uuid.UUID(request_id)
    except ValueError:
        return None
    if parsed.version != 7:
        return None
    at = _EPOCH + (parsed.int >> 80) * _MS
    return at - _MARGIN, at + _MARGIN


def accepted(
    request_id: str, action: OpsgenieAction | None, receipt: pipeline.Receipt
) -> dict[str, Any]:
    """The answer to log for an applied request: Opsgenie's 202 body and the status."""
    [applied] = receipt.results  # every Opsgenie request carries one alert
    name = ACTIONS[action] if action else CREATE
    return {**accepted_body(request_id), STATUS_MEMBER: _status(name, applied)}


def ignored(request_id: str, action: OpsgenieAction, reason: str) -> dict[str, Any]:
    """The answer to log for a request accepted and ignored (an action by Opsgenie id)."""
    status = {"action": ACTIONS[action], "isSuccess": False, "status": reason}
    return {**accepted_body(request_id), STATUS_MEMBER: status}


def answer(logged: dict[str, Any]) -> dict[str, Any]:
    """What is sent of a logged answer: Opsgenie's body, without the status."""
    return {name: value for name, value in logged.items() if name != STATUS_MEMBER}


def status_body(
    request_id: str, logged: dict[str, Any], received_at: datetime, integration_id: uuid.UUID
) -> dict[str, Any]:
    """Opsgenie's answer to ``GET /v2/alerts/requests/{request_id}``."""
    status = dict(logged.get(STATUS_MEMBER) or {})
    data = {
        "success": bool(status.get("isSuccess")),
        "action": status.get("action", ""),
        "processedAt": received_at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "integrationId": str(integration_id),
        "isSuccess": bool(status.get("isSuccess")),
        "status": status.get("status", ""),
    }
    data["processedAt"] = data["processedAt"].replace("+00:00", "Z")
    data.update({name: status[name] for name in ("alertId", "alias") if status.get(name)})
    return {"data": data, "took": 0.0, "requestId": request_id}


def _status(action: str, applied: Applied) -> dict[str, Any]:
    succeeded = _SUCCEEDED.get(applied.result)
    if succeeded is None:
        # Ignored: no open alert has the alias, or it is already acknowledged. Opsgenie
        # reports the first as a failure, and acknowledging twice changes nothing.
        exists = applied.alert_id is not None
        reason = applied.detail or "ignored"
        succeeded = reason if exists else f"Alert does not exist: {reason}"
        is_success = exists
    else:
        is_success = True
    status: dict[str, Any] = {
        "action": action,
        "isSuccess": is_success,
        "status": succeeded,
        "alias": applied.dedup_key,
    }
    if applied.alert_id is not None:
        status["alertId"] = str(applied.alert_id)
    return status
