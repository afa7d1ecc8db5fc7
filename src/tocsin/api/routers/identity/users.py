from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tocsin.actions.actors import Actor
from tocsin.actions.identity import invitations, logins, users
from tocsin.api.schemas import problems
from tocsin.api.schemas.common import Page
from tocsin.api.schemas.identity.users import (
    InvitationRead,
    LoginLinkRead,
    PasswordChange,
    UserCreate,
    UserRead,
    UserUpdate,
)
from tocsin.http.context import context_of
from tocsin.http.deps import CurrentActor, DbSession, Now

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=problems.COMMON)

Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("", response_model=Page[UserRead])
async def list_users(
    session: DbSession,
    actor: CurrentActor,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Limit = 50,
    search: Annotated[str | None, Query(max_length=200)] = None,
    active: bool | None = None,
) -> Page[UserRead]:
    page = await users.list_users(
        session, actor=actor, cursor=cursor, limit=limit, search=search, active=active
    )
    return Page[UserRead](
        items=[UserRead.model_validate(user) for user in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, response_model=UserRead, responses=problems.CONFLICT)
async def create_user(
    body: UserCreate, request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> UserRead:
    """Unless ``invite`` is false, the new user is mailed a one-time sign-in link."""
    user = await users.create_user(
        session,
        actor=actor,
        email=body.email,
        name=body.name,
        time_zone=body.time_zone,
        phone=body.phone,
        password=body.password,
        is_platform_admin=body.is_platform_admin,
        now=now,
    )
    if body.invite:
        await _invite(request, session, actor, user.id, now)
    return UserRead.model_validate(user)


@router.post(
    "/{user_id}/invitation",
    status_code=202,
    response_model=InvitationRead,
    responses=problems.NOT_FOUND,
)
async def send_invitation(
    user_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> InvitationRead:
    """Mail the user an invitation with a new one-time sign-in link (again)."""
    invitation = await _invite(request, session, actor, user_id, now)
    return InvitationRead(sent_to=invitation.address, expires_at=invitation.expires_at)


async def _invite(
    request: Request, session: DbSession, actor: Actor, user_id: uuid.UUID, now: datetime
) -> invitations.Invitation:
    settings = context_of(request).settings
    return await invitations.invite(
        session,
        actor=actor,
        user_id=user_id,
        base_url=settings.base_url,
        ttl=timedelta(hours=settings.invitation_hours),
        now=now,
    )


@router.get("/{user_id}", response_model=UserRead, responses=problems.NOT_FOUND)
async def get_user(user_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> UserRead:
    return UserRead.model_validate(await users.get_user(session, actor=actor, user_id=user_id))


@router.patch(
    "/{user_id}", response_model=UserRead, responses={**problems.NOT_FOUND, **problems.CONFLICT}
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, session: DbSession, actor: CurrentActor, now: Now
) -> UserRead:
    sent = body.model_fields_set
    user = await users.update_user(
        session,
        actor=actor,
        user_id=user_id,
        changes=users.UserChanges(
            name=body.name,
            email=body.email,
            time_zone=body.time_zone,
            phone=body.phone,
            clear_phone="phone" in sent and body.phone is None,
            is_platform_admin=body.is_platform_admin,
        ),
        now=now,
    )
    if body.is_active is not None:
        user = await users.set_active(
            session, actor=actor, user_id=user_id, active=body.is_active, now=now
        )
    return UserRead.model_validate(user)


@router.put("/{user_id}/password", status_code=204, responses=problems.NOT_FOUND)
async def set_password(
    user_id: uuid.UUID, body: PasswordChange, session: DbSession, actor: CurrentActor, now: Now
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


@router.post(
    "/{user_id}/login-link",
    status_code=201,
    response_model=LoginLinkRead,
    responses=problems.NOT_FOUND,
)
async def issue_login_link(
    user_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> LoginLinkRead:
    """A one-time link that signs the user in (for people without a password yet)."""
    context = context_of(request)
    ttl = timedelta(minutes=context.settings.login_link_minutes)
    token = await logins.issue_login_link(session, actor=actor, user_id=user_id, ttl=ttl, now=now)
    return LoginLinkRead(
        url=logins.login_link_url(context.settings.base_url, token), expires_at=now + ttl
    )
