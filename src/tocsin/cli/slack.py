"""``tocsin slack manifest``: the Slack app manifest for this installation's URL."""

from __future__ import annotations

import json

import typer

from tocsin.cli.common import load_settings
from tocsin.notify.channels.slack.manifest import manifest

app = typer.Typer(help="Slack.", no_args_is_help=True)


@app.command("manifest")
def print_manifest() -> None:
    """Print the app manifest to paste at api.slack.com/apps (uses TOCSIN_PUBLIC_URL)."""
    settings = load_settings()
    if not settings.public_url:
        typer.echo(
            "warning: TOCSIN_PUBLIC_URL is unset; Slack must reach tocsin at a public HTTPS URL",
            err=True,
        )
    typer.echo(
        json.dumps(
            manifest(settings.base_url, token_rotation=settings.slack_token_rotation), indent=2
        )
    )
