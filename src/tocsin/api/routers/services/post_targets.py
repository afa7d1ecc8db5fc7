"""Where incidents are posted: ``/api/v1/services/{service_id}/post-targets`` (a
service's own places) and ``/api/v1/teams/{team_id}/post-targets`` (a team's, for every
one of its services). Both have the same shape and the same errors.

Channel posts come in addition to personal pages, never instead: a place to look, not a
way to be woken.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from tocsin.actions.services import post_targets
from tocsin.api.schemas import problems
from tocsin.api.schemas.services.post_targets import PostTargetCreate, PostTargetRead
from tocsin.db.models.follow_ups import PostTarget
from tocsin.http.context import context_of
from tocsin.http.deps import CurrentActor, DbSession, Now
from tocsin.notify.channels import registry
from tocsin.security.encryption import Cipher

router = APIRouter(
    prefix="/api/v1/services/{service_id}/post-targets",
    tags=["services"],
    responses=problems.COMMON,
)
team_router = APIRouter(
    prefix="/api/v1/teams/{team_id}/post-targets",
    tags=["teams"],
    responses=problems.COMMON,
)


@router.get("", response_model=list[PostTargetRead], responses=problems.NOT_FOUND)
async def list_post_targets(
    service_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor
) -> list[PostTargetRead]:
    return await _list(post_targets.Owner(service_id=service_id), request, session, actor)


@router.post("", status_code=201, response_model=PostTargetRead, responses=problems.NOT_FOUND)
async def add_post_target(
    service_id: uuid.UUID,
    body: PostTargetCreate,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> PostTargetRead:
    """Post every new incident of the service there, and keep the post up to date."""
    owner = post_targets.Owner(service_id=service_id)
    return await _add(owner, body, request, session, actor, now)


@router.delete("/{target_id}", status_code=204, responses=problems.NOT_FOUND)
async def remove_post_target(
    service_id: uuid.UUID, target_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    """Posts already made stay where they are; nothing new is posted there."""
    return await _remove(post_targets.Owner(service_id=service_id), target_id, session, actor, now)


@team_router.get("", response_model=list[PostTargetRead], responses=problems.NOT_FOUND)
async def list_team_post_targets(
    team_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor
) -> list[PostTargetRead]:
    """The team's own places (each service's own are listed under the service)."""
    return await _list(post_targets.Owner(team_id=team_id), request, session, actor)


@team_router.post("", status_code=201, response_model=PostTargetRead, responses=problems.NOT_FOUND)
async def add_team_post_target(
    team_id: uuid.UUID,
    body: PostTargetCreate,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> PostTargetRead:
    """Post every new incident of every service of the team there (in addition to the
    service's own places), and keep the post up to date."""
    return await _add(post_targets.Owner(team_id=team_id), body, request, session, actor, now)


@team_router.delete("/{target_id}", status_code=204, responses=problems.NOT_FOUND)
async def remove_team_post_target(
    team_id: uuid.UUID, target_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    """Posts already made stay where they are; nothing new is posted there."""
    return await _remove(post_targets.Owner(team_id=team_id), target_id, session, actor, now)


async def _list(
    owner: post_targets.Owner, request: Request, session: DbSession, actor: CurrentActor
) -> list[PostTargetRead]:
    found = await post_targets.list_targets(session, actor=actor, owner=owner)
    cipher = context_of(request).cipher
    return [_read(target, cipher) for target in found]


async def _remove(
    owner: post_targets.Owner,
    target_id: uuid.UUID,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> Response:
    await post_targets.remove_target(
        session, actor=actor, owner=owner, target_id=target_id, now=now
    )
    return Response(status_code=204)


async def _add(
    owner: post_targets.Owner,
    body: PostTargetCreate,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> PostTargetRead:
    context = context_of(request)
    target = await post_targets.add_target(
        session,
        actor=actor,
        cipher=context.cipher,
        owner=owner,
        kind=body.kind,
        address=registry.post_address(context.settings, body.kind, body.address),
        label=body.label,
        now=now,
    )
    return _read(target, context.cipher)


def _read(target: PostTarget, cipher: Cipher) -> PostTargetRead:
    return PostTargetRead(
        id=target.id,
        service_id=target.service_id,
        team_id=target.team_id,
        kind=target.kind,
        label=target.label,
        address=post_targets.masked(cipher.decrypt(target.address_encrypted)),
        broken_at=target.broken_at,
        broken_reason=target.broken_reason,
        created_at=target.created_at,
    )
