"""The `tocsin` command against a real database, run as a newcomer would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tocsin.config import normalise_database_url
from tocsin.db.models.api_keys import ApiKey
from tocsin.db.models.audit import AuditEvent
from tocsin.db.models.users import User


def tocsin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tocsin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_DATA_DIR": str(tmp_path),
        "TOCSIN_PUBLIC_URL": "https://oncall.example.com",
    }


def test_users_create_prints_a_login_link_and_is_audited(database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url, tmp_path)
    result = tocsin(
        "users", "create", "Ops@Example.com", "--name", "Ops Person", "--admin", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "created ops@example.com" in result.stdout
    assert "https://oncall.example.com/login/link/" in result.stdout
    again = tocsin("users", "create", "ops@example.com", "--name", "Again", env=env)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    engine = sa.create_engine(normalise_database_url(database_url), poolclass=sa.NullPool)
    with engine.connect() as connection:
        user = connection.execute(sa.select(User.is_platform_admin)).one()
        actors = connection.execute(sa.select(AuditEvent.actor_label, AuditEvent.action)).all()
    engine.dispose()
    assert user.is_platform_admin
    assert "user.created" in {action for _, action in actors}
    assert all(label.startswith("cli:") for label, _ in actors)


def test_api_keys_create_list_revoke(database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url, tmp_path)
    created = tocsin("api-keys", "create", "--name", "ci", "--scope", "users:write", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("tsk_")
    listed = tocsin("api-keys", "list", env=env)
    assert key not in listed.stdout
    assert key[:10] in listed.stdout
    engine = sa.create_engine(normalise_database_url(database_url), poolclass=sa.NullPool)
    with engine.connect() as connection:
        key_id = connection.execute(sa.select(ApiKey.id)).scalar_one()
    revoked = tocsin("api-keys", "revoke", str(key_id), env=env)
    assert revoked.returncode == 0
    with engine.connect() as connection:
        assert connection.execute(sa.select(ApiKey.revoked_at)).scalar_one() is not None
    engine.dispose()
    bad_scope = tocsin("api-keys", "create", "--name", "x", "--scope", "root", env=env)
    assert bad_scope.returncode == 2
    assert "unknown scope root" in bad_scope.stderr


def test_db_current_reports_up_to_date(database_url: str, tmp_path: Path) -> None:
    result = tocsin("db", "current", env=cli_env(database_url, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_configuration_docs_command(tmp_path: Path) -> None:
    result = tocsin("config", "docs", env={**os.environ})
    assert result.returncode == 0
    assert "`TOCSIN_DATABASE_URL`" in result.stdout


@pytest.mark.parametrize(
    ("options", "variables", "message"),
    [
        (["--tls-cert", "{tmp}/cert.pem"], {}, "set both TOCSIN_TLS_CERT and TOCSIN_TLS_KEY"),
        ([], {"TOCSIN_TLS_KEY": "{tmp}/key.pem"}, "set both TOCSIN_TLS_CERT and TOCSIN_TLS_KEY"),
        (
            ["--tls-cert", "{tmp}/missing.pem", "--tls-key", "{tmp}/key.pem"],
            {},
            "--tls-cert / TOCSIN_TLS_CERT {tmp}/missing.pem: No such file or directory",
        ),
        (
            ["--tls-cert", "{tmp}/junk.pem"],
            {"TOCSIN_TLS_KEY": "{tmp}"},
            "--tls-key / TOCSIN_TLS_KEY {tmp}: Is a directory",
        ),
        (
            ["--tls-cert", "{tmp}/junk.pem", "--tls-key", "{tmp}/junk.pem"],
            {},
            "--tls-cert / TOCSIN_TLS_CERT {tmp}/junk.pem: no PEM certificate in it",
        ),
    ],
    ids=["cert-option-alone", "key-variable-alone", "missing", "directory", "not-pem"],
)
def test_serve_refuses_an_unusable_tls_setup_in_one_line_before_starting(
    tmp_path: Path, options: list[str], variables: dict[str, str], message: str
) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    env = {
        **os.environ,
        # Unreachable: were the files not checked first, serve would fail on this instead.
        "TOCSIN_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
        "TOCSIN_DATA_DIR": str(tmp_path / "data"),
        **{name: value.format(tmp=tmp_path) for name, value in variables.items()},
    }
    result = tocsin("serve", *(option.format(tmp=tmp_path) for option in options), env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert message.format(tmp=tmp_path) in result.stderr
