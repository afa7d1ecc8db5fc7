"""``tocsin teams manifest``: the Teams app package for this installation's bot."""

from __future__ import annotations

from pathlib import Path

import typer

from tocsin.cli.common import load_settings
from tocsin.notify.channels.teams.manifest import package

app = typer.Typer(help="Microsoft Teams.", no_args_is_help=True)


@app.command("manifest")
def write_manifest(
    output: Path = typer.Option(
        Path("tocsin-teams.zip"), "--output", "-o", help="Where to write the app package."
    ),
) -> None:
    """Write the Teams app package (manifest.json and icons) for TOCSIN_TEAMS_APP_ID and
    TOCSIN_PUBLIC_URL, to upload in Teams."""
    settings = load_settings()
    if not settings.teams_app_id:
        typer.echo("TOCSIN_TEAMS_APP_ID is unset: the package names the bot by it", err=True)
        raise typer.Exit(2)
    if not settings.public_url:
        typer.echo(
            "warning: TOCSIN_PUBLIC_URL is unset; Teams must reach tocsin at a public HTTPS URL",
            err=True,
        )
    output.write_bytes(package(settings.teams_app_id, settings.base_url))
    typer.echo(f"wrote {output}: upload it in Teams (Apps → Manage your apps → Upload an app)")
