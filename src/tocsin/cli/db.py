"""``tocsin db``: apply and inspect migrations by hand."""

from __future__ import annotations

import typer
from sqlalchemy import create_engine

from tocsin.cli.common import console, database_for_command, load_settings
from tocsin.config import normalise_database_url
from tocsin.db import migrate

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply pending migrations (up to REVISION, default the latest)."""
    with database_for_command(load_settings()) as url:
        migrate.upgrade(url, revision)
        console.print(f"database at {revision}")


@app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Revision to go back to, e.g. -1.")) -> None:
    """Revert migrations down to REVISION."""
    with database_for_command(load_settings()) as url:
        migrate.downgrade(url, revision)
        console.print(f"database at {revision}")


@app.command("current")
def current() -> None:
    """Show the database's revision and whether it is the latest."""
    with database_for_command(load_settings()) as url:
        engine = create_engine(normalise_database_url(url))
        try:
            with engine.connect() as connection:
                revisions = migrate.current_revisions(connection)
        finally:
            engine.dispose()
        heads = migrate.head_revisions()
        state = (
            "up to date" if revisions == heads else f"behind (latest: {', '.join(sorted(heads))})"
        )
        console.print(f"{', '.join(sorted(revisions)) or '(empty)'}: {state}")
