"""Errors on pages are pages: a person in a browser gets HTML, never problem+json."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from tocsin.web.pages import TEMPLATES, LoginRequired

# Machine-facing paths keep problem+json whatever the Accept header says.
MACHINE_PREFIXES = ("/api/", "/v2/", "/ingest/", "/healthz", "/readyz", "/metrics", "/openapi.json")


def wants_page(request: Request) -> bool:
    return not request.url.path.startswith(MACHINE_PREFIXES) and "text/html" in request.headers.get(
        "accept", ""
    )


def error_page(request: Request, *, status: int, title: str, detail: str) -> Response:
    # A 503 is the database being away (a restart, a failover): say so plainly, and that
    # nothing already accepted is lost, rather than show an error as if something broke.
    template = "unavailable.html" if status == 503 else "error.html"
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"title": title, "detail": detail, "me": None, "signed_in": None, "csrf_token": None},
        status_code=status,
    )


async def on_login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    return RedirectResponse(f"/login?next={quote(error.next_path)}", status_code=303)
