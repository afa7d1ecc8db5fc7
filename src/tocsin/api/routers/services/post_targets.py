"""``/api/v1/services/{service_id}/post-targets``: where a service's incidents are posted.

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
from tocsin.errors import InvalidInput
from tocsin.http.context import context_of
from tocsin.http.deps import CurrentActor, DbSession, Now
from tocsin.notify.channels.registry import CHANNELS
from tocsin.security.encryption import Cipher

router = APIRouter(
    prefix="/api/v1/services/{service_id}/post-targets",
    tags=["services"],
    responses=problems.COMMON,
)


@router.get("", response_model=list[PostTargetRead], responses=problems.NOT_FOUND)
async def list_post_targets(
    service_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor
) -> list[PostTargetRead]:
    found = await post_targets.list_targets(session, actor=actor, service_id=service_id)
    cipher = context_of(request).cipher
    return [_read(target, cipher) for target in found]


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
    context = context_of(request)
    package = next(
        (
            package
            for package in CHANNELS
            if package.kind is body.kind
            and package.post_address is not None
            and package.configured(context.settings)
        ),
        None,
    )
    if package is None or package.post_address is None:
        raise InvalidInput("kind", f"{body.kind.value} does not post to shared places here")
    target = await post_targets.add_target(
        session,
        actor=actor,
        cipher=context.cipher,
        service_id=service_id,
        kind=body.kind,
        address=package.post_address(body.address),
        label=body.label,
        now=now,
    )
    return _read(target, context.cipher)


@router.delete("/{target_id}", status_code=204, responses=problems.NOT_FOUND)
async def remove_post_target(
    service_id: uuid.UUID, target_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    """Posts already made stay where they are; nothing new is posted there."""
    await post_targets.remove_target(
        session, actor=actor, service_id=service_id, target_id=target_id, now=now
    )
    return Response(status_code=204)


def _read(target: PostTarget, cipher: Cipher) -> PostTargetRead:
    return PostTargetRead(
        id=target.id,
        service_id=target.service_id,
        kind=target.kind,
        label=target.label,
        address=post_targets.masked(cipher.decrypt(target.address_encrypted)),
        broken_at=target.broken_at,
        broken_reason=target.broken_reason,
        created_at=target.created_at,
    )
