"""``tocsin api-keys``: keys for scripts and monitoring tools, managed from the console."""

from __future__ import annotations

import uuid
from datetime import timedelta

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import cli_actor
from tocsin.actions.identity import api_keys
from tocsin.cli.common import (
    clock,
    console,
    errors,
    load_settings,
    print_listing,
    run_in_transaction,
)
from tocsin.db.models.api_keys import ApiKey
from tocsin.domain.access import Scope

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)

SCOPES_HELP = "Scope to grant (repeatable): " + ", ".join(scope.value for scope in Scope)


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="What the key is for."),
    scope: list[str] = typer.Option(..., "--scope", help=SCOPES_HELP),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", min=1, help="Expire after N days."
    ),
) -> None:
    """Create a key and print it. It is shown only once."""
    unknown = [value for value in scope if value not in {s.value for s in Scope}]
    if unknown:
        errors.print(
            f"unknown scope {', '.join(unknown)}; choose from {', '.join(s.value for s in Scope)}"
        )
        raise typer.Exit(2)

    async def work(session: AsyncSession) -> api_keys.IssuedKey:
        now = clock.now()
        return await api_keys.create_api_key(
            session,
            actor=cli_actor(),
            name=name,
            scopes=[Scope(value) for value in scope],
            now=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )

    issued = run_in_transaction(load_settings(), work)
    # The key alone on stdout, so scripts can capture it: KEY=$(tocsin api-keys create ...)
    print(issued.secret)
    errors.print(
        f"created API key {issued.key.name} ({issued.key.id}); store it now, it is not shown again"
    )


@app.command("list")
def list_keys() -> None:
    """List keys (never the keys themselves)."""

    async def work(session: AsyncSession) -> list[ApiKey]:
        page = await api_keys.list_api_keys(session, actor=cli_actor(), cursor=None, limit=200)
        return page.items

    print_listing(
        ["id", "name", "prefix", "scopes", "last used", "expires", "revoked"],
        [
            [
                str(key.id),
                key.name,
                key.display_prefix + "…",
                " ".join(key.scopes),
                _when(key.last_used_at),
                _when(key.expires_at),
                _when(key.revoked_at),
            ]
            for key in run_in_transaction(load_settings(), work)
        ],
    )


@app.command("revoke")
def revoke(key_id: uuid.UUID = typer.Argument(..., help="The key's id (from `list`).")) -> None:
    """Revoke a key at once."""

    async def work(session: AsyncSession) -> ApiKey:
        return await api_keys.revoke_api_key(
            session, actor=cli_actor(), key_id=key_id, now=clock.now()
        )

    key = run_in_transaction(load_settings(), work)
    console.print(f"revoked {key.name} ({key.id})")


def _when(instant: object) -> str:
    return instant.strftime("%Y-%m-%d %H:%M") if hasattr(instant, "strftime") else ""
