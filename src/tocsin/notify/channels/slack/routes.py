"""Slack's requests to tocsin, and the pages of the Slack install and link.

* ``POST /slack/interactions``: a button press or menu choice on a page or a post.
* ``POST /slack/commands``: the ``/tocsin`` slash command.
* ``POST /slack/events``: the Events API (URL check; the app uninstalled or its tokens
  revoked disables the workspace).
* ``GET /slack/install`` → Slack → ``GET /slack/oauth/callback``: a team admin installs
  the app in a workspace (OAuth v2).
* ``GET|POST /slack/link``: the one-time link ``/tocsin link`` answers with; opened
  signed in, it makes the Slack account a contact method of the person.

Every request from Slack is verified with ``slack_sdk``'s ``SignatureVerifier`` over the
raw body (5-minute window; 401 otherwise, and nothing changes). A request whose signature
was seen before (a replay, or Slack retrying a request already acted on) changes nothing.
Slack wants an answer within 3 seconds: the actions are single short transactions, so
commands are answered in the response; a press is answered 200 at once and its
result, when there is one to tell, goes to ``response_url`` after the response.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import Clock as SlackClock
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions import principals
from tocsin.actions.actors import Actor
from tocsin.clock import Clock
from tocsin.db.models.users import User
from tocsin.domain.access import TeamRole
from tocsin.errors import InvalidInput, NotAuthenticated, PermissionDenied
from tocsin.http.context import AppContext, context_of
from tocsin.http.deps import client_ip
from tocsin.notify.channels.slack import acting, blocks, commands, workspaces
from tocsin.notify.channels.slack.manifest import BOT_SCOPES
from tocsin.notify.channels.slack.web_api import SlackApi
from tocsin.web import account_links
from tocsin.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)


async def _link(
    session: AsyncSession, actor: Actor, user: User, team_id: str, user_id: str, now: datetime
) -> object:
    return await workspaces.link(
        session, actor=actor, user=user, team_id=team_id, slack_user_id=user_id, now=now
    )


# /slack/link: the link /tocsin link answers with.
LINKS = account_links.AccountLinks("slack", "team", _link)
LINKS.add_to(router)

AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
# Slack's request timestamps are Unix seconds: more digits than this is not one.
TIMESTAMP_DIGITS = 12


class _SlackClock(SlackClock):
    """``SignatureVerifier`` asks the time through this: tocsin's clock, so a test's
    frozen clock is the verifier's too."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock.now().timestamp()


async def _verified(request: Request) -> tuple[bytes, str]:
    """The raw body of a request Slack signed, and its signature; 401 otherwise."""
    context = context_of(request)
    secret = context.settings.slack_signing_secret
    if secret is None:
        raise NotAuthenticated("Slack is not set up on this tocsin (TOCSIN_SLACK_SIGNING_SECRET)")
    body = await request.body()
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    # The verifier parses the timestamp and decodes the body itself and would raise on
    # what it cannot: checked here first, so bad input is a 401, never a 500.
    if not timestamp.isdigit() or len(timestamp) > TIMESTAMP_DIGITS:
        raise NotAuthenticated("X-Slack-Request-Timestamp is missing or not a Unix time")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotAuthenticated("the body is not UTF-8, so Slack did not sign it") from error
    verifier = SignatureVerifier(secret.get_secret_value(), clock=_SlackClock(context.clock))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise NotAuthenticated(
            "X-Slack-Signature does not match the body, or the request is older than 5 minutes"
        )
    return body, signature


async def _first_time(context: AppContext, signature: str) -> bool:
    async with context.database.transaction() as session:
        return await workspaces.first_seen(session, signature=signature, now=context.clock.now())


async def _linked(context: AppContext, team_id: str, user_id: str, ip: str | None) -> Actor | None:
    async with context.database.transaction() as session:
        user = await workspaces.linked_user(session, team_id=team_id, user_id=user_id)
        if user is None:
            return None
        return Actor(await principals.user_principal(session, user), ip, "Slack")


def _form(body: bytes) -> dict[str, str]:
    """A form Slack posted (already checked to be UTF-8); at most 100 fields, where Slack
    sends a dozen."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except ValueError as error:
        raise InvalidInput("body", "more form fields than Slack ever sends") from error
    return {key: values[-1] for key, values in fields.items()}


def _ephemeral(text: str) -> JSONResponse:
    return JSONResponse({"response_type": "ephemeral", "text": text})


UNLINKED = (
    "Your Slack account is not linked to a tocsin account yet, so nothing was changed. "
    "Type `/tocsin link` to link it."
)


@router.post("/slack/commands")
async def slash_command(request: Request) -> Response:
    body, signature = await _verified(request)
    context = context_of(request)
    form = _form(body)
    team_id, user_id = form.get("team_id", ""), form.get("user_id", "")
    if not team_id or not user_id:
        raise InvalidInput("team_id", "a slash command names its team_id and user_id")
    if not await _first_time(context, signature):
        return _ephemeral("This command was already handled.")
    parsed = commands.parse(form.get("text", ""))
    if isinstance(parsed, commands.Unparsed):
        return _ephemeral(parsed.reason)
    if parsed.verb is commands.Verb.HELP:
        return _ephemeral(commands.HELP)
    if parsed.verb is commands.Verb.LINK:
        return _ephemeral(
            "Open this link within 10 minutes, signed in to tocsin, to link your Slack "
            f"account: {LINKS.url(context, team_id, user_id)}"
        )
    actor = await _linked(context, team_id, user_id, client_ip(request))
    if actor is None:
        return _ephemeral(UNLINKED)
    now = context.clock.now()
    if parsed.verb in (commands.Verb.ACKNOWLEDGE, commands.Verb.RESOLVE):
        assert parsed.number is not None
        async with context.database.transaction() as session:
            incident_id = await acting.incident_id_of(session, parsed.number)
        if incident_id is None:
            return _ephemeral(f"There is no incident #{parsed.number}.")
        action = blocks.ACKNOWLEDGE if parsed.verb is commands.Verb.ACKNOWLEDGE else blocks.RESOLVE
        answer = await acting.act(
            context.database, actor=actor, action=action, incident_id=incident_id, now=now
        )
        return _ephemeral(answer.text)
    try:
        async with context.database.transaction() as session:
            if parsed.verb is commands.Verb.INCIDENTS:
                return _ephemeral(await acting.open_incidents(session, actor=actor))
            return _ephemeral(
                await acting.who_is_on_call(session, actor=actor, name=parsed.argument, now=now)
            )
    except PermissionDenied:
        return _ephemeral("You may not see that in tocsin.")


@router.post("/slack/interactions")
async def interaction(request: Request, background: BackgroundTasks) -> Response:
    body, signature = await _verified(request)
    context = context_of(request)
    try:
        payload = json.loads(_form(body).get("payload", ""))
    except json.JSONDecodeError as error:
        raise InvalidInput("payload", "an interaction carries its JSON in `payload`") from error
    press = _press(payload)
    if press is None:
        return Response(status_code=200)  # another kind of interaction: nothing to do
    team_id, user_id, action, incident_id, minutes, response_url = press
    if not await _first_time(context, signature):
        return Response(status_code=200)
    actor = await _linked(context, team_id, user_id, client_ip(request))
    if actor is None:
        background.add_task(_tell, context.settings.slack_api_url, response_url, UNLINKED)
        return Response(status_code=200)
    answer = await acting.act(
        context.database,
        actor=actor,
        action=action,
        incident_id=incident_id,
        now=context.clock.now(),
        snooze_minutes=minutes,
    )
    # The message itself is updated by the follow-up lane (woken by the change); a
    # refusal or a lost race is told to the presser alone.
    if not answer.changed:
        background.add_task(_tell, context.settings.slack_api_url, response_url, answer.text)
    return Response(status_code=200)


def _press(payload: Any) -> tuple[str, str, str, uuid.UUID, int | None, str] | None:
    """(team, user, action, incident, snooze minutes, response_url) of a button press."""
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    user, team, actions = payload.get("user"), payload.get("team"), payload.get("actions")
    if not isinstance(user, dict) or not isinstance(actions, list) or not actions:
        raise InvalidInput("payload", "a block_actions payload names its user and actions")
    team_id = (team or {}).get("id") if isinstance(team, dict) else None
    team_id = team_id or user.get("team_id")
    first = actions[0]
    if not isinstance(first, dict):
        raise InvalidInput("payload.actions", "each action is an object")
    action = str(first.get("action_id", ""))
    value = first.get("value")
    if action == blocks.SNOOZE:
        selected = first.get("selected_option")
        value = selected.get("value") if isinstance(selected, dict) else None
    if action not in (blocks.ACKNOWLEDGE, blocks.RESOLVE, blocks.ESCALATE, blocks.SNOOZE):
        return None
    incident_text, _, minutes_text = str(value or "").partition(":")
    try:
        incident_id = uuid.UUID(incident_text)
    except ValueError as error:
        raise InvalidInput("payload.actions.value", "not an incident id") from error
    minutes = int(minutes_text) if minutes_text.isdigit() and len(minutes_text) < 6 else None
    if action == blocks.SNOOZE and minutes not in blocks.SNOOZE_MINUTES:
        raise InvalidInput("payload.actions.selected_option", "not a snooze choice")
    return (
        str(team_id or ""),
        str(user.get("id", "")),
        action,
        incident_id,
        minutes,
        str(payload.get("response_url", "")),
    )


async def _tell(api_url: str, response_url: str, text: str) -> None:
    """An ephemeral answer to the presser, through Slack's ``response_url``: only to
    Slack's own hooks, or to where ``TOCSIN_SLACK_API_URL`` points (an egress proxy, a
    test's fake), never to any URL a request names."""
    target, api = urlsplit(response_url), urlsplit(api_url)
    slack_hook = target.scheme == "https" and target.hostname == "hooks.slack.com"
    if not slack_hook and (target.scheme, target.netloc) != (api.scheme, api.netloc):
        return
    try:
        await AsyncWebhookClient(response_url, timeout=5).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except (SlackApiError, SlackClientError, OSError):
        return  # only a courtesy: the press itself was handled either way


@router.post("/slack/events")
async def events(request: Request) -> Response:
    body, _ = await _verified(request)
    context = context_of(request)
    try:
        event = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidInput("body", "an event is a JSON object") from error
    if not isinstance(event, dict):
        raise InvalidInput("body", "an event is a JSON object")
    if event.get("type") == "url_verification":
        return JSONResponse({"challenge": str(event.get("challenge", ""))[:200]})
    inner = event.get("event")
    kind = inner.get("type") if isinstance(inner, dict) else None
    if kind in ("app_uninstalled", "tokens_revoked"):
        async with context.database.transaction() as session:
            await workspaces.disable(
                session,
                team_id=str(event.get("team_id", ""))[:32],
                reason=f"Slack: {kind}",
                now=context.clock.now(),
            )
    return Response(status_code=200)


@router.get("/slack/install")
async def install(request: Request, signed_in: PageActor) -> Response:
    """A team admin (or platform admin) starts the install; the ``state`` is theirs
    alone, single use, for 10 minutes."""
    context = context_of(request)
    settings = context.settings
    if not settings.slack_client_id:
        raise InvalidInput("slack", "Slack is not set up on this tocsin (TOCSIN_SLACK_CLIENT_ID)")
    principal = signed_in.actor.principal
    if not principal.is_platform_admin and not any(
        role is TeamRole.ADMIN for role in principal.team_roles.values()
    ):
        raise PermissionDenied("installing Slack in a workspace takes a team admin")
    async with context.database.transaction() as session:
        state = await workspaces.start_install(
            session, user_id=signed_in.user.id, now=context.clock.now()
        )
    query = urlencode(
        {
            "client_id": settings.slack_client_id,
            "scope": ",".join(BOT_SCOPES),
            "redirect_uri": f"{settings.base_url}/slack/oauth/callback",
            "state": state,
        }
    )
    return RedirectResponse(f"{AUTHORIZE_URL}?{query}", status_code=303)


@router.get("/slack/oauth/callback")
async def oauth_callback(request: Request, signed_in: PageActor) -> HTMLResponse:
    context = context_of(request)
    settings = context.settings
    code, state = request.query_params.get("code", ""), request.query_params.get("state", "")
    now = context.clock.now()
    async with context.database.transaction() as session:
        valid = bool(state) and await workspaces.use_install_state(
            session, state=state, user_id=signed_in.user.id, now=now
        )
    if not valid or not code:
        return render(
            request,
            "slack/installed.html",
            signed_in=signed_in,
            ok=False,
            status_code=400,
            detail="This install link was already used, has expired, or was started by someone "
            "else. Start again from the Slack page.",
        )
    api = SlackApi.of(settings, context.database, context.cipher, context.clock)
    try:
        answer = await api.client(None, time_limit=10).oauth_v2_access(
            client_id=settings.slack_client_id or "",
            client_secret=(
                settings.slack_client_secret.get_secret_value()
                if settings.slack_client_secret
                else ""
            ),
            code=code,
            redirect_uri=f"{settings.base_url}/slack/oauth/callback",
        )
    except (SlackApiError, SlackClientError, OSError) as error:
        return render(
            request,
            "slack/installed.html",
            signed_in=signed_in,
            ok=False,
            status_code=502,
            detail=f"Slack refused the install: {error}",
        )
    team = answer.get("team") or {}
    expires_in = answer.get("expires_in")
    if not team.get("id") or not answer.get("access_token"):
        return render(
            request,
            "slack/installed.html",
            signed_in=signed_in,
            ok=False,
            status_code=502,
            detail="Slack's answer named no workspace or bot token. Start again.",
        )
    async with context.database.transaction() as session:
        await workspaces.install(
            session,
            context.cipher,
            actor=signed_in.actor,
            team_id=str(team.get("id", "")),
            team_name=str(team.get("name", "")),
            bot_user_id=str(answer.get("bot_user_id", "")),
            bot_token=str(answer.get("access_token", "")),
            refresh_token=answer.get("refresh_token"),
            expires_at=(
                now + timedelta(seconds=expires_in) if isinstance(expires_in, int) else None
            ),
            now=now,
        )
    return render(
        request, "slack/installed.html", signed_in=signed_in, ok=True, team=team.get("name", "")
    )
