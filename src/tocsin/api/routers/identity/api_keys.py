"""API keys: only platform admins, signed in in person, may manage them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from tocsin.actions.identity import api_keys
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Page
from tocsin.api.schemas.identity.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"], responses=problems.COMMON)


@router.get("", response_model=Page[ApiKeyRead])
async def list_api_keys(
    session: DbSession,
    actor: CurrentActor,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ApiKeyRead]:
    page = await api_keys.list_api_keys(session, actor=actor, cursor=cursor, limit=limit)
    return Page[ApiKeyRead](
        items=[ApiKeyRead.model_validate(key) for key in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(
    body: ApiKeyCreate, session: DbSession, actor: CurrentActor, now: Now
) -> ApiKeyCreated:
    issued = await api_keys.create_api_key(
        session,
        actor=actor,
        name=body.name,
        scopes=body.scopes,
        expires_at=body.expires_at,
        now=now,
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(issued.key).model_dump(), key=issued.secret)


@router.post("/{key_id}/revoke", response_model=ApiKeyRead, responses=problems.NOT_FOUND)
async def revoke_api_key(
    key_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> ApiKeyRead:
    """Revoking is immediate and final; revoking twice is harmless."""
    key = await api_keys.revoke_api_key(session, actor=actor, key_id=key_id, now=now)
    return ApiKeyRead.model_validate(key)
