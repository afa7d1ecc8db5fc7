"""Sign in with Slack (OpenID Connect): a person links their Slack account from their
notification settings page ("Connect Slack"), the other way into what ``/tocsin link``
does from Slack.

``GET /slack/signin`` (signed in to tocsin) → Slack's ``openid/connect/authorize`` →
``GET /slack/signin/callback`` → ``openid.connect.token`` exchanges the code for the
person's token → ``openid.connect.userInfo`` answers their workspace and user id →
``contact_methods.connect`` through ``workspaces.link``, as ``/tocsin link`` ends.

The ``state`` is the install's mechanism (``slack_install_state``, its digest stored with
its purpose): single use, bound to the tocsin session that started it, 10 minutes. The
identity comes from ``userInfo``, asked with the token Slack just issued over TLS, so no
``id_token`` signature needs checking here (and no nonce). Only a workspace where tocsin
is installed and working can be linked: pages there would go nowhere otherwise.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth import OpenIDConnectAuthorizeUrlGenerator

from tocsin.db.models.users import User
from tocsin.errors import Conflict, InvalidInput
from tocsin.http.context import AppContext, context_of
from tocsin.notify.channels.slack import workspaces
from tocsin.notify.channels.slack.manifest import SIGN_IN_SCOPES
from tocsin.notify.channels.slack.web_api import SlackApi
from tocsin.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)

AUTHORIZE_URL = "https://slack.com/openid/connect/authorize"
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"
TEAM_NAME_CLAIM = "https://slack.com/team_name"


def _redirect_uri(context: AppContext) -> str:
    return f"{context.settings.base_url}/slack/signin/callback"


@router.get("/slack/signin")
async def start(request: Request, signed_in: PageActor) -> Response:
    context = context_of(request)
    client_id = context.settings.slack_client_id
    if not client_id:
        raise InvalidInput("slack", "Slack is not set up on this tocsin (TOCSIN_SLACK_CLIENT_ID)")
    async with context.database.transaction() as session:
        state = await workspaces.start_install(
            session, user_id=signed_in.user.id, now=context.clock.now(), purpose=workspaces.SIGN_IN
        )
    url = OpenIDConnectAuthorizeUrlGenerator(
        client_id=client_id,
        redirect_uri=_redirect_uri(context),
        scopes=list(SIGN_IN_SCOPES),
        authorization_url=AUTHORIZE_URL,
    ).generate(state=state)
    return RedirectResponse(url, status_code=303)


@router.get("/slack/signin/callback")
async def callback(request: Request, signed_in: PageActor) -> HTMLResponse:
    context = context_of(request)
    params = request.query_params
    code, state = params.get("code", ""), params.get("state", "")
    async with context.database.transaction() as session:
        valid = bool(state) and await workspaces.use_install_state(
            session,
            state=state,
            user_id=signed_in.user.id,
            now=context.clock.now(),
            purpose=workspaces.SIGN_IN,
        )
    if not valid or not code:
        return _refused(
            request,
            signed_in,
            400,
            "This sign-in was already used, has expired (10 minutes), was started by someone "
            "else, or was cancelled in Slack. Start again with Connect Slack.",
        )
    identity = await _identity(context, code)
    if isinstance(identity, str):
        return _refused(request, signed_in, 502, identity)
    team_id, slack_user_id, team_name = identity
    try:
        async with context.database.transaction() as session:
            if await workspaces.working_name(session, team_id) is None:
                return _refused(
                    request,
                    signed_in,
                    409,
                    f"tocsin is not installed in the Slack workspace {team_name or team_id}, so "
                    "it could not page you there. Ask a team admin to add tocsin to Slack, then "
                    "connect again.",
                )
            user = await session.get(User, signed_in.user.id)
            assert user is not None  # the session's own person, just loaded
            await workspaces.link(
                session,
                actor=signed_in.actor,
                user=user,
                team_id=team_id,
                slack_user_id=slack_user_id,
                now=context.clock.now(),
            )
    except Conflict as error:
        return _refused(request, signed_in, 409, f"{error.detail}.")
    return render(request, "slack/link.html", signed_in=signed_in, state="done", query="")


async def _identity(context: AppContext, code: str) -> tuple[str, str, str] | str:
    """(team id, user id, team name) Slack says signed in, or why it would not say."""
    settings = context.settings
    api = SlackApi.of(settings, context.database, context.cipher, context.clock)
    try:
        granted = await api.client(None, time_limit=10).openid_connect_token(
            client_id=api.client_id,
            client_secret=api.client_secret,
            code=code,
            redirect_uri=_redirect_uri(context),
        )
        token = str(granted.get("access_token") or "")
        if not token:
            return "Slack's answer carried no token. Start again with Connect Slack."
        info = await api.client(token, time_limit=10).openid_connect_userInfo()
    except SlackApiError as error:
        return f"Slack refused the sign-in: {error.response.get('error')}"
    except (SlackClientError, OSError) as error:
        return f"Slack could not be reached: {type(error).__name__}"
    team_id, user_id = str(info.get(TEAM_CLAIM) or ""), str(info.get(USER_CLAIM) or "")
    if not team_id or not user_id:
        return "Slack did not say which workspace and person signed in. Start again."
    return team_id, user_id, str(info.get(TEAM_NAME_CLAIM) or "")


def _refused(request: Request, signed_in: PageActor, status: int, detail: str) -> HTMLResponse:
    return render(
        request,
        "slack/link.html",
        signed_in=signed_in,
        state="refused",
        detail=detail,
        query="",
        status_code=status,
    )
