"""Who may do what: the one table of authorization rules.

Three kinds of principal act on tocsin:

* a **user**, by browser session; a platform admin may do everything, anyone else gets what
  their role in the relevant team allows (``admin`` > ``responder`` > ``observer``);
* an **API key**, created by a platform admin; it acts platform-wide but only within its
  scopes, and never on actions reserved for people (managing API keys);
* the **system** (the CLI run by the operator, the engine), which may do everything.

``authorize`` is the only place these rules are applied; every route calls it through
``http/deps.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tocsin.errors import MissingScope, PermissionDenied


class TeamRole(StrEnum):
    OBSERVER = "observer"
    RESPONDER = "responder"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: TeamRole) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {TeamRole.OBSERVER: 1, TeamRole.RESPONDER: 2, TeamRole.ADMIN: 3}


class Scope(StrEnum):
    """What an API key may be granted. ``read`` scopes never allow a change."""

    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    TEAMS_READ = "teams:read"
    TEAMS_WRITE = "teams:write"
    AUDIT_READ = "audit:read"
    INCIDENTS_READ = "incidents:read"
    INCIDENTS_WRITE = "incidents:write"
    SCHEDULES_READ = "schedules:read"
    SCHEDULES_WRITE = "schedules:write"
    # The alert pipeline's configuration: services (with their maintenance windows),
    # escalation policies, and the integrations alerts arrive through.
    SERVICES_READ = "services:read"
    SERVICES_WRITE = "services:write"
    POLICIES_READ = "policies:read"
    POLICIES_WRITE = "policies:write"
    INTEGRATIONS_READ = "integrations:read"
    INTEGRATIONS_WRITE = "integrations:write"


class Audience(StrEnum):
    """The least a user must be for an action."""

    ANY_USER = "any_user"
    TEAM_OBSERVER = "team_observer"
    TEAM_RESPONDER = "team_responder"
    TEAM_ADMIN = "team_admin"
    PLATFORM_ADMIN = "platform_admin"
    # Platform admins in person: no API key can do it, whatever its scopes.
    PLATFORM_ADMIN_IN_PERSON = "platform_admin_in_person"


_TEAM_AUDIENCE_ROLE = {
    Audience.TEAM_OBSERVER: TeamRole.OBSERVER,
    Audience.TEAM_RESPONDER: TeamRole.RESPONDER,
    Audience.TEAM_ADMIN: TeamRole.ADMIN,
}


@dataclass(frozen=True)
class Rule:
    audience: Audience
    scope: Scope | None


class Action(StrEnum):
    READ_USERS = "users.read"
    MANAGE_USERS = "users.manage"
    READ_TEAMS = "teams.read"
    CREATE_TEAM = "teams.create"
    MANAGE_TEAM = "teams.manage"
    DELETE_TEAM = "teams.delete"
    READ_TEAM_AUDIT = "audit.read_team"
    READ_ALL_AUDIT = "audit.read_all"
    MANAGE_API_KEYS = "api_keys.manage"
    READ_INCIDENTS = "incidents.read"
    RESPOND_TO_INCIDENT = "incidents.respond"
    READ_SCHEDULES = "schedules.read"
    MANAGE_SCHEDULES = "schedules.manage"
    # Responders may cover for each other; only the creator or a team admin may undo it.
    CREATE_OVERRIDE = "schedules.create_override"
    MANAGE_OVERRIDES = "schedules.manage_overrides"
    READ_SERVICES = "services.read"
    MANAGE_SERVICES = "services.manage"
    READ_POLICIES = "policies.read"
    MANAGE_POLICIES = "policies.manage"
    READ_INTEGRATIONS = "integrations.read"
    # Checked against every team owning a service the integration routes to, before and
    # after the change: pointing alerts at a team's service pages its people.
    MANAGE_INTEGRATIONS = "integrations.manage"


RULES: Mapping[Action, Rule] = {
    Action.READ_USERS: Rule(Audience.ANY_USER, Scope.USERS_READ),
    Action.MANAGE_USERS: Rule(Audience.PLATFORM_ADMIN, Scope.USERS_WRITE),
    Action.READ_TEAMS: Rule(Audience.ANY_USER, Scope.TEAMS_READ),
    Action.CREATE_TEAM: Rule(Audience.PLATFORM_ADMIN, Scope.TEAMS_WRITE),
    Action.MANAGE_TEAM: Rule(Audience.TEAM_ADMIN, Scope.TEAMS_WRITE),
    Action.DELETE_TEAM: Rule(Audience.PLATFORM_ADMIN, Scope.TEAMS_WRITE),
    Action.READ_TEAM_AUDIT: Rule(Audience.TEAM_ADMIN, Scope.AUDIT_READ),
    Action.READ_ALL_AUDIT: Rule(Audience.PLATFORM_ADMIN, Scope.AUDIT_READ),
    Action.MANAGE_API_KEYS: Rule(Audience.PLATFORM_ADMIN_IN_PERSON, None),
    Action.READ_INCIDENTS: Rule(Audience.ANY_USER, Scope.INCIDENTS_READ),
    Action.RESPOND_TO_INCIDENT: Rule(Audience.TEAM_RESPONDER, Scope.INCIDENTS_WRITE),
    Action.READ_SCHEDULES: Rule(Audience.ANY_USER, Scope.SCHEDULES_READ),
    Action.MANAGE_SCHEDULES: Rule(Audience.TEAM_ADMIN, Scope.SCHEDULES_WRITE),
    Action.CREATE_OVERRIDE: Rule(Audience.TEAM_RESPONDER, Scope.SCHEDULES_WRITE),
    Action.MANAGE_OVERRIDES: Rule(Audience.TEAM_ADMIN, Scope.SCHEDULES_WRITE),
    Action.READ_SERVICES: Rule(Audience.ANY_USER, Scope.SERVICES_READ),
    Action.MANAGE_SERVICES: Rule(Audience.TEAM_ADMIN, Scope.SERVICES_WRITE),
    Action.READ_POLICIES: Rule(Audience.ANY_USER, Scope.POLICIES_READ),
    Action.MANAGE_POLICIES: Rule(Audience.TEAM_ADMIN, Scope.POLICIES_WRITE),
    Action.READ_INTEGRATIONS: Rule(Audience.ANY_USER, Scope.INTEGRATIONS_READ),
    Action.MANAGE_INTEGRATIONS: Rule(Audience.TEAM_ADMIN, Scope.INTEGRATIONS_WRITE),
}


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"
    # Someone not (yet) authenticated, such as a failed login; may do nothing.
    ANONYMOUS = "anonymous"
    # A monitoring tool, authenticated by its integration key; it only sends alerts, and
    # appears as the actor of what its alerts change (an incident resolved by Alertmanager).
    INTEGRATION = "integration"


@dataclass(frozen=True)
class Principal:
    """The facts authorization needs about whoever is acting."""

    kind: PrincipalKind
    id: uuid.UUID | None
    label: str
    is_platform_admin: bool = False
    scopes: frozenset[Scope] = frozenset()
    team_roles: Mapping[uuid.UUID, TeamRole] = field(default_factory=dict)

    def role_in(self, team_id: uuid.UUID) -> TeamRole | None:
        return self.team_roles.get(team_id)


def authorize(principal: Principal, action: Action, *, team_id: uuid.UUID | None = None) -> None:
    """Return if ``principal`` may perform ``action`` (on ``team_id``), raise otherwise."""
    if not is_allowed(principal, action, team_id=team_id):
        rule = RULES[action]
        if (
            principal.kind is PrincipalKind.API_KEY
            and rule.scope is not None
            and rule.audience is not Audience.PLATFORM_ADMIN_IN_PERSON
        ):
            raise MissingScope(rule.scope.value)
        raise PermissionDenied(f"{principal.label} may not {action.value}", action=action.value)


def is_allowed(principal: Principal, action: Action, *, team_id: uuid.UUID | None = None) -> bool:
    rule = RULES[action]
    if principal.kind is PrincipalKind.SYSTEM:
        return True
    if principal.kind in (PrincipalKind.ANONYMOUS, PrincipalKind.INTEGRATION):
        return False
    if principal.kind is PrincipalKind.API_KEY:
        if rule.audience is Audience.PLATFORM_ADMIN_IN_PERSON:
            return False
        return rule.scope is not None and rule.scope in principal.scopes
    if principal.is_platform_admin:
        return True
    if rule.audience is Audience.ANY_USER:
        return True
    required = _TEAM_AUDIENCE_ROLE.get(rule.audience)
    if required is None or team_id is None:
        return False
    role = principal.role_in(team_id)
    return role is not None and role.at_least(required)
