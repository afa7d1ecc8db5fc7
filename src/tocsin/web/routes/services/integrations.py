"""Integrations: the list, one integration, creating one (its key and ready-to-paste URLs
are shown this once, like an API key), rotating its key, renaming, disabling, deleting.

Managing one takes admin rights in every team owning a service it sends to
(``integrations.*`` decides; the forms are shown to those it would allow). Routing rules
are shown here and edited through the API. The page that shows a key is never cached.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.actions.identity import directory
from tocsin.actions.intake import test_alerts
from tocsin.actions.intake.triggers import Applied, Result
from tocsin.actions.services import integrations
from tocsin.actions.services.integration_settings import Destination
from tocsin.db.models.integrations import Integration, IntegrationKind
from tocsin.db.models.services import Service
from tocsin.domain.access import Action
from tocsin.errors import InvalidInput
from tocsin.http.context import context_of
from tocsin.http.deps import DbSession, Now
from tocsin.ingest import sender_config
from tocsin.ingest.endpoints import Setting, endpoints_for, grafana_contact_point
from tocsin.ingest.test_alerts import has_test_alert
from tocsin.web import forms
from tocsin.web.confirmation import ask_first
from tocsin.web.forms import Refused
from tocsin.web.pages import PageActor, SignedIn, redirect, render, require_csrf

router = APIRouter(prefix="/integrations", include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("")
async def list_integrations(request: Request, session: DbSession, signed_in: PageActor) -> Response:
    actor = signed_in.actor
    page = await integrations.list_integrations(session, actor=actor, cursor=None, limit=200)
    services = await directory.all_services(session, actor=actor)
    return render(
        request,
        "integrations/list.html",
        signed_in=signed_in,
        integrations=page.items,
        more=page.next_cursor is not None,
        service_names={service.id: service.name for service in services},
        can_create=bool(_manageable(signed_in, services)),
    )


@router.get("/new")
async def new_integration(
    request: Request, session: DbSession, signed_in: PageActor, service_id: str = ""
) -> Response:
    return await _form(request, session, signed_in, chosen=service_id)


@router.post("")
async def create_integration(
    request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)
    context = context_of(request)

    async def act() -> integrations.Saved:
        kind = forms.text(form, "kind")
        if kind not in set(IntegrationKind):
            raise InvalidInput("kind", "choose a kind of integration")
        fields = [name.strip() for name in forms.text(form, "grouping_fields").split(",")]
        return await integrations.create_integration(
            session,
            actor=signed_in.actor,
            cipher=context.cipher,
            name=forms.text(form, "name"),
            kind=IntegrationKind(kind),
            destination=Destination(service_id=forms.required_uuid(form, "service_id")),
            grouping_fields=[name for name in fields if name],
            grouping_window_minutes=forms.optional_int(form, "grouping_window_minutes"),
            signing=form.get("signing") == "on",
            heartbeat_interval_minutes=forms.optional_int(form, "heartbeat_interval_minutes"),
            now=now,
        )

    async def refused(why: Refused) -> Response:
        return await _form(
            request,
            session,
            signed_in,
            chosen=form.get("service_id", ""),
            error=why.message,
            status_code=422,
            typed=form,
        )

    return await forms.submit(
        session,
        act,
        done=lambda saved: _issued(request, signed_in, saved, "created"),
        refused=refused,
    )


@router.get("/{integration_id}")
async def show_integration(
    integration_id: uuid.UUID,
    request: Request,
    session: DbSession,
    signed_in: PageActor,
    tested: int | None = None,
) -> Response:
    actor = signed_in.actor
    loaded = await integrations.get_integration(session, actor=actor, integration_id=integration_id)
    integration = loaded.integration
    ids = [integration.service_id, integration.fallback_service_id]
    ids += [rule.service_id for rule in loaded.rules]
    services = await directory.services(session, actor=actor, ids=ids)
    base_url = context_of(request).settings.base_url
    return render(
        request,
        "integrations/detail.html",
        signed_in=signed_in,
        integration=integration,
        rules=loaded.rules,
        service_names={service_id: service.name for service_id, service in services.items()},
        base_url=base_url,
        grafana=_grafana(integration, base_url, key=None, secret=None),
        snippets=sender_config.snippets(
            integration.kind.value,
            base_url,
            sender_config.key_placeholder(integration.key_prefix),
        ),
        can_test=has_test_alert(integration.kind.value),
        tested=tested,
        # Every team it sends to must agree, as the action checks; no service, no manager.
        can_manage=bool(services)
        and all(
            signed_in.can(Action.MANAGE_INTEGRATIONS, team_id=service.team_id)
            for service in services.values()
        ),
    )


@router.post("/{integration_id}")
async def update_integration(
    integration_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    form = await require_csrf(request, signed_in)

    async def act() -> integrations.Saved:
        return await integrations.update_integration(
            session,
            actor=signed_in.actor,
            cipher=context_of(request).cipher,
            integration_id=integration_id,
            changes=integrations.IntegrationChanges(
                name=forms.text(form, "name"), is_enabled=form.get("is_enabled") == "on"
            ),
            now=now,
        )

    saved = await forms.attempt(session, act)
    path = f"/integrations/{integration_id}"
    if isinstance(saved, Refused):
        return redirect(path, error=saved.message)  # in red: nothing was saved
    return redirect(path, notice="Saved.")


@router.post("/{integration_id}/test-alert")
async def send_test_alert(
    integration_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    """A test alert through the integration's own format and the intake pipeline; the
    page then says what became of it, with a link to the incident."""
    await require_csrf(request, signed_in)

    async def act() -> Applied:
        return await test_alerts.send(
            session, actor=signed_in.actor, integration_id=integration_id, now=now
        )

    outcome = await forms.attempt(session, act)
    path = f"/integrations/{integration_id}"
    if isinstance(outcome, Refused):
        return redirect(path, error=f"No test alert sent: {outcome.detail}.")
    # The incident's number, not text, travels in the URL: the page links to it.
    tested = f"?tested={outcome.incident_number}" if outcome.incident_number else ""
    return redirect(path + tested, notice=_test_alert_notice(outcome))


def _test_alert_notice(applied: Applied) -> str:
    number = f"#{applied.incident_number}" if applied.incident_number else "an incident"
    if applied.result is Result.CREATED:
        return (
            f"Test alert sent: it opened incident {number}, which pages per the service's policy."
        )
    if applied.result is Result.DEDUPLICATED:
        return (
            f"Test alert sent: it joined the open incident {number} (an earlier test alert"
            " is still open; resolve it to page again)."
        )
    if applied.result is Result.GROUPED:
        return (
            f"Test alert sent: the integration's grouping put it into the open incident {number}."
        )
    detail = f" ({applied.detail})" if applied.detail else ""
    return f"Test alert sent: {applied.result.value}{detail}."


@router.post("/{integration_id}/rotate-key")
async def rotate_key(
    integration_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    await require_csrf(request, signed_in)
    saved = await integrations.rotate_key(
        session, actor=signed_in.actor, integration_id=integration_id, now=now
    )
    return _issued(request, signed_in, saved, "rotated")


@router.post("/{integration_id}/delete")
async def delete_integration(
    integration_id: uuid.UUID, request: Request, session: DbSession, now: Now, signed_in: PageActor
) -> Response:
    fields = await require_csrf(request, signed_in)
    if (
        question := ask_first(request, signed_in, fields, back=f"/integrations/{integration_id}")
    ) is not None:
        return question
    await integrations.delete_integration(
        session, actor=signed_in.actor, integration_id=integration_id, now=now
    )
    return redirect("/integrations", notice="Integration deleted; its key no longer works.")


async def _form(
    request: Request,
    session: DbSession,
    signed_in: SignedIn,
    *,
    chosen: str,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    services = await directory.all_services(session, actor=signed_in.actor)
    return render(
        request,
        "integrations/new.html",
        signed_in=signed_in,
        services=_manageable(signed_in, services),
        chosen=chosen,
        kinds=[(kind, sender_config.kind_name(kind)) for kind in sender_config.KIND_NAMES],
        typed=typed or {},
        error=error,
        status_code=status_code,
    )


def _issued(
    request: Request, signed_in: SignedIn, saved: integrations.Saved, what: str
) -> Response:
    assert saved.key is not None  # creation and rotation always issue a key
    integration = saved.loaded.integration
    base_url = context_of(request).settings.base_url
    response = render(
        request,
        "integrations/issued.html",
        signed_in=signed_in,
        integration=integration,
        what=what,
        key=saved.key,
        signing_secret=saved.signing_secret,
        endpoints=endpoints_for(integration.kind.value, saved.key, base_url),
        grafana=_grafana(integration, base_url, key=saved.key, secret=saved.signing_secret),
        snippets=sender_config.snippets(integration.kind.value, base_url, saved.key),
    )
    response.headers.update(NO_STORE)
    return response


def _grafana(
    integration: Integration, base_url: str, *, key: str | None, secret: str | None
) -> list[Setting] | None:
    """The contact point to paste into Grafana, for a Grafana integration only."""
    if integration.kind is not IntegrationKind.GRAFANA:
        return None
    return grafana_contact_point(
        base_url,
        key,
        key_prefix=integration.key_prefix,
        signed=integration.signing_secret_encrypted is not None,
        secret=secret,
    )


def _manageable(signed_in: SignedIn, services: list[Service]) -> list[Service]:
    return [s for s in services if signed_in.can(Action.MANAGE_INTEGRATIONS, team_id=s.team_id)]
