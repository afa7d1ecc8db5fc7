"""The signed-in person's own account."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tocsin.actions.identity import users
from tocsin.api.schemas import problems
from tocsin.api.schemas.identity.users import PasswordChange, ProfileUpdate, UserRead
from tocsin.errors import PermissionDenied
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(prefix="/api/v1/me", tags=["me"], responses=problems.COMMON)


async def _own_user_id(actor: CurrentActor) -> uuid.UUID:
    if actor.user_id is None:
        raise PermissionDenied("/me is for people signed in; an API key has no profile")
    return actor.user_id


OwnUserId = Annotated[uuid.UUID, Depends(_own_user_id)]


@router.get("", response_model=UserRead)
async def get_me(user_id: OwnUserId, session: DbSession, actor: CurrentActor) -> UserRead:
    return UserRead.model_validate(await users.get_user(session, actor=actor, user_id=user_id))


@router.patch("", response_model=UserRead)
async def update_me(
    body: ProfileUpdate, user_id: OwnUserId, session: DbSession, actor: CurrentActor, now: Now
) -> UserRead:
    user = await users.update_user(
        session,
        actor=actor,
        user_id=user_id,
        changes=users.UserChanges(
            name=body.name,
            time_zone=body.time_zone,
            phone=body.phone,
            clear_phone="phone" in body.model_fields_set and body.phone is None,
        ),
        now=now,
    )
    return UserRead.model_validate(user)


@router.put("/password", status_code=204)
async def change_my_password(
    body: PasswordChange, user_id: OwnUserId, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await users.change_password(
        session,
        actor=actor,
        user_id=user_id,
        new_password=body.new_password,
        current_password=body.current_password,
        now=now,
    )
    return Response(status_code=204)
