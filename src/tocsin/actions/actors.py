"""Who is acting, and from where: what every action needs to authorize and to audit."""

from __future__ import annotations

import getpass
import uuid
from dataclasses import dataclass

from tocsin.domain.access import Principal, PrincipalKind


@dataclass(frozen=True)
class Actor:
    principal: Principal
    ip_address: str | None = None
    user_agent: str | None = None

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.principal.id if self.principal.kind is PrincipalKind.USER else None


def system_actor(label: str) -> Actor:
    return Actor(Principal(kind=PrincipalKind.SYSTEM, id=None, label=label))


def cli_actor() -> Actor:
    """The operator at the console: trusted like the system, named after the OS account."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return system_actor(f"cli:{who}")
