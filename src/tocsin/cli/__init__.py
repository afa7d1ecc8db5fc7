"""The ``tocsin`` command: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from tocsin.cli import api_keys, config_docs, db, serve, slack, teams, users

app = typer.Typer(
    name="tocsin",
    help="Self-hostable on-call alerting. Start with `tocsin serve`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(api_keys.app, name="api-keys")
app.add_typer(config_docs.app, name="config")
app.add_typer(slack.app, name="slack")
app.add_typer(teams.app, name="teams")


def main() -> None:
    app()
