"""``create_app``: the one place the HTTP application is assembled.

The app is built from what the edge hands it (settings, clock, database, secret key,
metrics) and holds no globals, so tests build as many as they like.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from tocsin import __version__
from tocsin.api import openapi_document
from tocsin.api.routers import escalation, health, incidents
from tocsin.api.routers.identity import api_keys, audit, me, teams, users
from tocsin.api.routers.identity import notification_settings as notifications
from tocsin.api.routers.intake import ingest, opsgenie, pagerduty
from tocsin.api.routers.notify import deliveries
from tocsin.api.routers.oncall import calendar_feeds, overrides, schedules
from tocsin.api.routers.services import integrations, post_targets, services
from tocsin.clock import Clock
from tocsin.config import Settings
from tocsin.db.group_commit import GroupCommit
from tocsin.db.session import Database
from tocsin.errors import NotFound
from tocsin.http import problems
from tocsin.http.body_limit import BodyLimitMiddleware
from tocsin.http.context import AppContext, Keys
from tocsin.http.intake_limits import IntakeLimiter
from tocsin.http.request_guard import NulGuardMiddleware
from tocsin.http.single_query import single_valued_query
from tocsin.metrics import HttpMetricsMiddleware, Metrics
from tocsin.notify.channels.registry import CHANNELS
from tocsin.security.encryption import Cipher
from tocsin.web import errors as page_errors
from tocsin.web.live.listener import LiveUpdates
from tocsin.web.pages import STATIC_DIR, LoginRequired
from tocsin.web.routes import app_shell, home, live
from tocsin.web.routes.escalation import policies as policy_pages
from tocsin.web.routes.identity import api_keys as admin_api_keys
from tocsin.web.routes.identity import (
    auth,
    notification_changes,
    notification_settings,
    profile,
    verify,
)
from tocsin.web.routes.identity import teams as team_pages
from tocsin.web.routes.identity import users as admin_users
from tocsin.web.routes.incidents import bulk as incident_bulk
from tocsin.web.routes.incidents import changes
from tocsin.web.routes.incidents import pages as incident_pages
from tocsin.web.routes.notify import magic_links
from tocsin.web.routes.oncall import changes as schedule_changes
from tocsin.web.routes.oncall import schedules as schedule_pages
from tocsin.web.routes.services import integrations as integration_pages
from tocsin.web.routes.services import maintenance
from tocsin.web.routes.services import places as place_pages
from tocsin.web.routes.services import services as service_pages

DESCRIPTION = """\
The tocsin REST API. Authenticate with an API key (`Authorization: Bearer tsk_…`, created by a
platform admin with `tocsin api-keys create` or on the API keys page) or with a browser session.

Errors are RFC 9457 `application/problem+json` documents with a stable `type`
(`/problems/<slug>`) and, where a field is at fault, `field` naming it. Lists are paginated
with an opaque `cursor`: pass `next_cursor` from one page to get the next.
"""


def create_app(
    *,
    settings: Settings,
    clock: Clock,
    database: Database,
    secret: bytes,
    metrics: Metrics | None = None,
) -> FastAPI:
    context = AppContext(
        settings=settings,
        clock=clock,
        database=database,
        keys=Keys.derive(secret),
        metrics=metrics or Metrics(),
        intake_limiter=IntakeLimiter(settings.ingest_rate_per_minute, database),
        intake_commits=GroupCommit(database),
        cipher=Cipher(secret),
    )
    app = FastAPI(
        title="tocsin",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served from the shipped file: see api/openapi_document.py
    )
    app.state.context = context
    # Incident changes pushed to open tabs (``GET /events``); listens once a tab opens.
    app.state.live = LiveUpdates(database)
    context.metrics.watch_database(database.availability)
    problems.install(app, pages=page_errors)
    app.add_exception_handler(LoginRequired, page_errors.on_login_required)
    # Routes are matched in order, one by one: alert intake, the busiest path by far,
    # comes first so that matching it does not cost a scan of every other route.
    for router in (
        ingest.router,
        pagerduty.router,
        opsgenie.router,
        health.router,
        me.router,
        users.router,
        teams.router,
        api_keys.router,
        audit.router,
        schedules.router,
        overrides.router,
        calendar_feeds.router,
        calendar_feeds.public,
        services.router,
        post_targets.router,
        post_targets.team_router,
        escalation.router,
        integrations.router,
        incidents.router,
        deliveries.router,
        notifications.router,
    ):
        app.include_router(router, dependencies=[Depends(single_valued_query)])
    # Channels' routes before the pages: their fixed paths (``/teams/messages``) must win
    # over a page's path parameter (``/teams/{team_id}``).
    for package in CHANNELS:
        if package.configured(settings):
            for channel_router in (*package.routers(), *package.routers_for(settings)):
                app.include_router(channel_router)
    for page_router in (
        auth.router,
        home.router,
        incident_pages.router,
        incident_bulk.router,
        changes.router,
        service_pages.router,
        maintenance.router,
        place_pages.router,
        integration_pages.router,
        policy_pages.router,
        schedule_pages.router,
        schedule_changes.router,
        profile.router,
        team_pages.router,
        admin_users.router,
        admin_api_keys.router,
        magic_links.router,
        notification_settings.router,
        notification_changes.router,
        verify.router,
        app_shell.router,
        live.router,
    ):
        app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_docs_routes(app)
    app.add_middleware(BodyLimitMiddleware, limit_for=_body_limits(settings))
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(HttpMetricsMiddleware, metrics=context.metrics)
    return app


INTAKE_PREFIXES = ("/ingest", "/v2/")


def _body_limits(settings: Settings) -> Callable[[str], int]:
    """Alert bodies have their own limit (PagerDuty's is 512 KB); the rest of the API the
    general one."""

    def limit_for(path: str) -> int:
        if path.startswith(INTAKE_PREFIXES):
            return settings.ingest_max_body_bytes
        return settings.max_body_bytes

    return limit_for


def _add_docs_routes(app: FastAPI) -> None:
    openapi_document.add_route(app)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        # Served from vendored assets: tocsin must work on a machine with no internet.
        return get_swagger_ui_html(
            openapi_url=openapi_document.URL,
            title="tocsin API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/problems/{slug}", include_in_schema=False)
    async def problem_type(slug: str, request: Request) -> Response:
        kind = problems.PROBLEM_TYPES.get(slug)
        if kind is None:
            raise NotFound("problem type", slug)
        return page_errors.error_page(
            request, status=200, title=f"{kind.title} ({kind.status})", detail=kind.description
        )
