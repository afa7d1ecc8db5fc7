"""What the app's edges share: settings, clock, database, derived keys and the cipher.

One ``AppContext`` is built by ``create_app`` and hung on ``app.state``; dependencies and
page handlers read it from there. Nothing in it is global, so a test can run two apps (or
an app and an engine) side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import HTTPConnection

from tocsin.actions.identity.logins import SessionPolicy
from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.group_commit import GroupCommit
from tocsin.db.session import Database
from tocsin.domain.login_limits import LoginLimits
from tocsin.http.intake_limits import IntakeLimiter
from tocsin.metrics import Metrics
from tocsin.security import secret_key
from tocsin.security.encryption import Cipher


@dataclass(frozen=True)
class Keys:
    csrf: bytes

    @classmethod
    def derive(cls, secret: bytes) -> Keys:
        return cls(csrf=secret_key.derive(secret, "tocsin csrf v1"))


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    clock: Clock
    database: Database
    keys: Keys
    metrics: Metrics
    intake_limiter: IntakeLimiter
    # Trigger-only intake requests share transactions (see db/group_commit.py).
    intake_commits: GroupCommit
    # Encrypts what must be replayed (integration signing secrets), see security/encryption.
    cipher: Cipher

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            max_age=timedelta(hours=self.settings.session_max_hours),
        )

    @property
    def login_limits(self) -> LoginLimits:
        return LoginLimits(
            per_account=self.settings.login_max_failures_per_account,
            per_ip=self.settings.login_max_failures_per_ip,
            window=timedelta(seconds=self.settings.login_failure_window_seconds),
        )


def context_of(connection: HTTPConnection) -> AppContext:
    context: AppContext = connection.app.state.context
    return context
