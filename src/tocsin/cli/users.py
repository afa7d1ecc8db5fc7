"""``tocsin users``: create people and get them signed in from the console."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import typer
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import cli_actor
from tocsin.actions.identity import logins, users
from tocsin.actions.identity.logins import login_link_url
from tocsin.cli.common import clock, console, load_settings, print_listing, run_in_transaction
from tocsin.db.models.users import User
from tocsin.domain import identity
from tocsin.errors import NotFound

app = typer.Typer(help="Manage users.", no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Argument(..., help="Their email address (unique, any case)."),
    name: str = typer.Option(..., "--name", help="Their full name."),
    admin: bool = typer.Option(False, "--admin", help="Make them a platform admin."),
    time_zone: str = typer.Option("UTC", "--time-zone", help="IANA zone, e.g. Europe/Paris."),
    phone: str | None = typer.Option(None, "--phone", help="Phone number in E.164 form."),
) -> None:
    """Create a user and print a one-time login link for them."""
    settings = load_settings()
    ttl = timedelta(minutes=settings.login_link_minutes)

    async def work(session: AsyncSession) -> tuple[User, str]:
        actor = cli_actor()
        now = clock.now()
        user = await users.create_user(
            session,
            actor=actor,
            email=email,
            name=name,
            time_zone=time_zone,
            phone=phone,
            is_platform_admin=admin,
            now=now,
        )
        token = await logins.issue_login_link(
            session, actor=actor, user_id=user.id, ttl=ttl, now=now
        )
        return user, token

    user, token = run_in_transaction(settings, work)
    console.print(f"created {user.email} ({user.id}){' as platform admin' if admin else ''}")
    console.print(
        f"one-time login link: {login_link_url(settings.base_url, token)}", soft_wrap=True
    )


@app.command("login-link")
def login_link(email: str = typer.Argument(..., help="Whose link.")) -> None:
    """Print a one-time login link for an existing user (e.g. a forgotten password)."""
    settings = load_settings()

    async def work(session: AsyncSession) -> str:
        address = identity.normalise_email(email)
        user = await session.scalar(sa.select(User).where(User.email == address))
        if user is None:
            raise NotFound("user", address)
        return await logins.issue_login_link(
            session,
            actor=cli_actor(),
            user_id=user.id,
            ttl=timedelta(minutes=settings.login_link_minutes),
            now=clock.now(),
        )

    token = run_in_transaction(settings, work)
    console.print(login_link_url(settings.base_url, token), soft_wrap=True)


@app.command("list")
def list_users() -> None:
    """List every user."""

    async def work(session: AsyncSession) -> list[User]:
        return list((await session.scalars(sa.select(User).order_by(User.email))).all())

    print_listing(
        ["email", "name", "time zone", "admin", "active", "id"],
        [
            [
                user.email,
                user.name,
                user.time_zone,
                "yes" if user.is_platform_admin else "",
                "yes" if user.is_active else "no",
                str(user.id),
            ]
            for user in run_in_transaction(load_settings(), work)
        ],
    )
