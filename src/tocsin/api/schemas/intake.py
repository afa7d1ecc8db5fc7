"""Documented shapes of the intake endpoints (their bodies are read raw and parsed by the
format, so FastAPI does not validate them; these only describe them in OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class IngestResult(BaseModel):
    dedup_key: str
    result: str
    incident_number: int | None = None
    detail: str | None = None


class IngestAccepted(BaseModel):
    status: str
    results: list[IngestResult] = []
    reason: str | None = None


class IngestBody:
    """A JSON object in the integration's format (see docs/integrations/)."""

    @staticmethod
    def openapi_extra() -> dict[str, Any]:
        return {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        }


class PagerDutyAccepted(BaseModel):
    status: str
    message: str
    dedup_key: str | None = None


class PagerDutyError(BaseModel):
    status: str
    message: str
    errors: list[str] = []


class OpsgenieAccepted(BaseModel):
    result: str
    took: float
    requestId: str


class OpsgenieRequestData(BaseModel):
    success: bool
    action: str
    processedAt: str
    integrationId: str
    isSuccess: bool
    status: str
    alertId: str | None = None
    alias: str | None = None


class OpsgenieRequestStatus(BaseModel):
    data: OpsgenieRequestData
    took: float
    requestId: str
