"""Contact methods, notification rules and opt-ins: a person's own under ``/api/v1/me``,
anyone's under ``/api/v1/users/{user_id}`` for platform admins; and who on call cannot be
reached."""

from __future__ import annotations

import uuid
from collections import defaultdict

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from tocsin.actions.identity import contact_methods, notification_rules
from tocsin.api.routers.identity.me import OwnUserId
from tocsin.api.schemas import problems
from tocsin.api.schemas.identity.notification_settings import (
    ContactMethodCreate,
    ContactMethodRead,
    NotificationRulesRead,
    NotificationSettings,
    OnCallWarning,
    ReachRead,
    RuleStep,
    UrgencyRules,
    VerifyCode,
)
from tocsin.domain import notification_rules as rules_domain
from tocsin.domain.incidents import Urgency
from tocsin.http.context import context_of
from tocsin.http.deps import CurrentActor, DbSession, Now
from tocsin.http.problems import problem_response
from tocsin.notify.channels.ntfy import access
from tocsin.notify.notifier import configured_kinds

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=problems.COMMON)


@router.get("/me/contact-methods", response_model=list[ContactMethodRead])
async def my_methods(
    user_id: OwnUserId, session: DbSession, actor: CurrentActor
) -> list[ContactMethodRead]:
    return await user_methods(user_id, session, actor)


@router.get(
    "/users/{user_id}/contact-methods",
    response_model=list[ContactMethodRead],
    responses=problems.NOT_FOUND,
)
async def user_methods(
    user_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> list[ContactMethodRead]:
    found = await contact_methods.list_methods(session, actor=actor, user_id=user_id)
    return [ContactMethodRead.model_validate(method) for method in found]


@router.post(
    "/me/contact-methods",
    status_code=201,
    response_model=ContactMethodRead,
    responses={409: {**problems.CONFLICT[409], "description": "The address is already there"}},
)
async def add_my_method(
    body: ContactMethodCreate,
    request: Request,
    user_id: OwnUserId,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> ContactMethodRead:
    """Add an email address (verified by a link mailed to it) or a phone number (verified
    by a 6-digit code sent to it)."""
    return await add_user_method(user_id, body, request, session, actor, now)


@router.post(
    "/users/{user_id}/contact-methods",
    status_code=201,
    response_model=ContactMethodRead,
    responses={
        **problems.NOT_FOUND,
        409: {**problems.CONFLICT[409], "description": "The address is already there"},
    },
)
async def add_user_method(
    user_id: uuid.UUID,
    body: ContactMethodCreate,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> ContactMethodRead:
    settings = context_of(request).settings
    method = await contact_methods.add_method(
        session,
        actor=actor,
        user_id=user_id,
        kind=body.kind,
        address=body.address,
        label=body.label,
        base_url=settings.base_url,
        now=now,
        details=access.details(settings, body.access_token),
        allow_private=settings.allow_private_destinations,
    )
    return ContactMethodRead.model_validate(method)


@router.post(
    "/contact-methods/{method_id}/verify",
    response_model=ContactMethodRead,
    responses=problems.NOT_FOUND,
)
async def verify_method(
    method_id: uuid.UUID, body: VerifyCode, session: DbSession, actor: CurrentActor, now: Now
) -> ContactMethodRead | JSONResponse:
    """Enter the 6-digit code: valid 15 minutes, at most 5 tries."""
    verified = await contact_methods.verify_code(
        session, actor=actor, method_id=method_id, code=body.code, now=now
    )
    if isinstance(verified, str):
        # Returned rather than raised: the counted try must commit.
        return problem_response("invalid-input", status=422, detail=verified, field="code")
    return ContactMethodRead.model_validate(verified)


@router.post(
    "/contact-methods/{method_id}/resend",
    response_model=ContactMethodRead,
    responses={
        **problems.NOT_FOUND,
        409: {**problems.CONFLICT[409], "description": "Already verified"},
    },
)
async def resend_verification(
    method_id: uuid.UUID, request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> ContactMethodRead:
    """Send a new code or link (once a minute)."""
    method = await contact_methods.resend_verification(
        session,
        actor=actor,
        method_id=method_id,
        base_url=context_of(request).settings.base_url,
        now=now,
    )
    return ContactMethodRead.model_validate(method)


@router.delete("/contact-methods/{method_id}", status_code=204, responses=problems.NOT_FOUND)
async def remove_method(
    method_id: uuid.UUID, session: DbSession, actor: CurrentActor, now: Now
) -> Response:
    await contact_methods.remove_method(session, actor=actor, method_id=method_id, now=now)
    return Response(status_code=204)


@router.get("/me/notification-rules", response_model=NotificationRulesRead)
async def my_rules(
    user_id: OwnUserId, session: DbSession, actor: CurrentActor
) -> NotificationRulesRead:
    return await user_rules(user_id, session, actor)


@router.get(
    "/users/{user_id}/notification-rules",
    response_model=NotificationRulesRead,
    responses=problems.NOT_FOUND,
)
async def user_rules(
    user_id: uuid.UUID, session: DbSession, actor: CurrentActor
) -> NotificationRulesRead:
    return _rules_read(await notification_rules.get_rules(session, actor=actor, user_id=user_id))


@router.put("/me/notification-rules", response_model=NotificationRulesRead)
async def set_my_rules(
    body: UrgencyRules, user_id: OwnUserId, session: DbSession, actor: CurrentActor, now: Now
) -> NotificationRulesRead:
    """Replace the steps of one urgency, e.g. ``[{delay 0: email}, {delay 2: sms}]``."""
    return await set_user_rules(user_id, body, session, actor, now)


@router.put(
    "/users/{user_id}/notification-rules",
    response_model=NotificationRulesRead,
    responses=problems.NOT_FOUND,
)
async def set_user_rules(
    user_id: uuid.UUID, body: UrgencyRules, session: DbSession, actor: CurrentActor, now: Now
) -> NotificationRulesRead:
    rules = [
        rules_domain.Rule(body.urgency, kind, step.delay_minutes)
        for step in body.steps
        for kind in step.kinds
    ]
    saved = await notification_rules.set_rules(
        session, actor=actor, user_id=user_id, urgency=body.urgency, rules=rules, now=now
    )
    return _rules_read(saved)


@router.get("/me/notification-settings", response_model=NotificationSettings)
async def my_settings(
    user_id: OwnUserId, session: DbSession, actor: CurrentActor
) -> NotificationSettings:
    found = await notification_rules.get_settings(session, actor=actor, user_id=user_id)
    return NotificationSettings(
        on_status_change=found.on_status_change, on_shift_start=found.on_shift_start
    )


@router.put("/me/notification-settings", response_model=NotificationSettings)
async def set_my_settings(
    body: NotificationSettings,
    user_id: OwnUserId,
    session: DbSession,
    actor: CurrentActor,
    now: Now,
) -> NotificationSettings:
    saved = await notification_rules.set_settings(
        session,
        actor=actor,
        user_id=user_id,
        on_status_change=body.on_status_change,
        on_shift_start=body.on_shift_start,
        now=now,
    )
    return NotificationSettings(
        on_status_change=saved.on_status_change, on_shift_start=saved.on_shift_start
    )


@router.get("/me/reachability", response_model=ReachRead)
async def my_reachability(
    request: Request, user_id: OwnUserId, session: DbSession, actor: CurrentActor
) -> ReachRead:
    """Which channels reach you per urgency, and why the others do not."""
    reach = await notification_rules.my_reach(
        session,
        actor=actor,
        user_id=user_id,
        deliverable=configured_kinds(context_of(request).settings),
    )
    return _reach_read(reach)


@router.get("/notification-warnings", response_model=list[OnCallWarning])
async def on_call_warnings(
    request: Request, session: DbSession, actor: CurrentActor, now: Now
) -> list[OnCallWarning]:
    """Everyone on call right now whose rules reach nobody for some urgency."""
    found = await notification_rules.unreachable_on_call(
        session, actor=actor, deliverable=configured_kinds(context_of(request).settings), now=now
    )
    return [
        OnCallWarning(reach=_reach_read(reach), schedules=schedules) for reach, schedules in found
    ]


def _rules_read(rules: list[rules_domain.Rule]) -> NotificationRulesRead:
    steps: dict[Urgency, dict[int, list[rules_domain.Rule]]] = {
        u: defaultdict(list) for u in Urgency
    }
    for rule in rules:
        steps[rule.urgency][rule.delay_minutes].append(rule)

    def of(urgency: Urgency) -> list[RuleStep]:
        return [
            RuleStep(delay_minutes=delay, kinds=[rule.kind for rule in group])
            for delay, group in sorted(steps[urgency].items())
        ]

    return NotificationRulesRead(high=of(Urgency.HIGH), low=of(Urgency.LOW))


def _reach_read(reach: notification_rules.Reach) -> ReachRead:
    return ReachRead(
        user_id=reach.user_id,
        name=reach.name,
        reachable_high=reach.reachable[Urgency.HIGH],
        reachable_low=reach.reachable[Urgency.LOW],
        problems_high=reach.problems[Urgency.HIGH],
        problems_low=reach.problems[Urgency.LOW],
        reaches_nobody=reach.reaches_nobody,
    )
