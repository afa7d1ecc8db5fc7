"""The authorization table, checked action by action for every kind of principal."""

from __future__ import annotations

import uuid

import pytest

from tocsin.domain.access import (
    RULES,
    Action,
    Audience,
    Principal,
    PrincipalKind,
    Scope,
    TeamRole,
    authorize,
    is_allowed,
)
from tocsin.errors import MissingScope, PermissionDenied

TEAM = uuid.uuid4()
OTHER_TEAM = uuid.uuid4()


def user(role: TeamRole | None = None, *, admin: bool = False) -> Principal:
    roles = {TEAM: role} if role else {}
    return Principal(
        PrincipalKind.USER, uuid.uuid4(), "someone", is_platform_admin=admin, team_roles=roles
    )


def key(*scopes: Scope) -> Principal:
    return Principal(PrincipalKind.API_KEY, uuid.uuid4(), "key", scopes=frozenset(scopes))


MINIMUM_ROLE = {
    Audience.TEAM_OBSERVER: TeamRole.OBSERVER,
    Audience.TEAM_RESPONDER: TeamRole.RESPONDER,
    Audience.TEAM_ADMIN: TeamRole.ADMIN,
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", [None, *TeamRole])
def test_team_roles_allow_exactly_what_the_table_says(
    action: Action, role: TeamRole | None
) -> None:
    rule = RULES[action]
    if rule.audience is Audience.ANY_USER:
        expected = True
    elif rule.audience in MINIMUM_ROLE:
        expected = role is not None and role.at_least(MINIMUM_ROLE[rule.audience])
    else:
        expected = False
    assert is_allowed(user(role), action, team_id=TEAM) is expected
    # The same role in another team grants nothing here.
    if rule.audience in MINIMUM_ROLE:
        assert not is_allowed(user(role), action, team_id=OTHER_TEAM)


@pytest.mark.parametrize("action", list(Action))
def test_platform_admins_and_the_system_may_do_everything(action: Action) -> None:
    assert is_allowed(user(admin=True), action, team_id=TEAM)
    assert is_allowed(Principal(PrincipalKind.SYSTEM, None, "cli"), action, team_id=TEAM)


@pytest.mark.parametrize("action", list(Action))
def test_anonymous_principals_may_do_nothing(action: Action) -> None:
    assert not is_allowed(Principal(PrincipalKind.ANONYMOUS, None, "nobody"), action, team_id=TEAM)


@pytest.mark.parametrize("action", list(Action))
def test_api_keys_need_the_scope_and_never_manage_api_keys(action: Action) -> None:
    rule = RULES[action]
    everything = key(*Scope)
    if rule.audience is Audience.PLATFORM_ADMIN_IN_PERSON:
        assert not is_allowed(everything, action)
        with pytest.raises(PermissionDenied) as raised:
            authorize(everything, action)
        assert not isinstance(raised.value, MissingScope)
        return
    assert rule.scope is not None
    assert is_allowed(key(rule.scope), action, team_id=TEAM)
    others = [scope for scope in Scope if scope is not rule.scope]
    with pytest.raises(MissingScope) as missing:
        authorize(key(*others), action, team_id=TEAM)
    assert missing.value.extensions["scope"] == rule.scope.value


def test_read_scopes_never_allow_a_change() -> None:
    readers = key(*(scope for scope in Scope if scope.value.endswith(":read")))
    for action in (Action.MANAGE_USERS, Action.CREATE_TEAM, Action.MANAGE_TEAM, Action.DELETE_TEAM):
        assert not is_allowed(readers, action, team_id=TEAM)


def test_role_order() -> None:
    assert TeamRole.ADMIN.at_least(TeamRole.RESPONDER)
    assert TeamRole.RESPONDER.at_least(TeamRole.OBSERVER)
    assert not TeamRole.OBSERVER.at_least(TeamRole.RESPONDER)
