"""What the page tests share: a browser-like client (session cookie, no CSRF header, so
every change must carry the form's token, as a real form post does) and form submission."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import httpx

from tests.builders import BASE_URL, Seed
from tocsin.db.models.users import User
from tocsin.http import csrf


async def browser(seed: Seed, user: User) -> httpx.AsyncClient:
    """A client signed in as ``user`` that sends no CSRF header: it must post forms."""
    token = await seed.session_token(user)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=seed.app, client=("203.0.113.7", 50000)),
        base_url=BASE_URL,
        headers={"accept": "text/html"},
    )
    client.cookies.set(csrf.SESSION_COOKIE, token, domain="tocsin.test")
    seed._clients.append(client)
    return client


def csrf_token(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def submit(
    client: httpx.AsyncClient,
    page_path: str,
    action: str,
    data: Mapping[str, str | list[str]] | None = None,
    **headers: str,
) -> httpx.Response:
    """Open ``page_path``, then post ``data`` to ``action`` with the page's CSRF token."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(
        action, data={**(data or {}), "csrf_token": csrf_token(page)}, headers=headers
    )


HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(
    page: httpx.Response, action: str, data: Mapping[str, object] | None = None
) -> dict[str, str]:
    """The hidden fields of the page's form posting to ``action``: of several, the one
    whose hidden fields hold most of ``data`` (a team member's Remove beside Change role)."""
    opening = rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>'
    forms = [
        {name: html.unescape(value) for name, value in HIDDEN_FIELD.findall(body)}
        for body in re.findall(opening, page.text, re.S)
    ]
    assert forms, f"no form posts to {action}: {page.text}"
    return max(forms, key=lambda fields: sum(fields.get(k) == v for k, v in (data or {}).items()))


async def post_form(
    client: httpx.AsyncClient,
    page_path: str,
    action: str,
    data: Mapping[str, str | list[str]] | None = None,
) -> httpx.Response:
    """Open ``page_path`` and post its form to ``action`` as a browser does: the form's
    hidden fields (CSRF token, a destructive form's question) with ``data``."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(action, data={**hidden_fields(page, action, data), **(data or {})})


async def submit_confirmed(
    client: httpx.AsyncClient,
    page_path: str,
    action: str,
    data: Mapping[str, str | list[str]] | None = None,
) -> httpx.Response:
    """A destructive form post as a browser without JavaScript makes it: the first post
    answers a page asking to confirm (and changes nothing); its form is posted back."""
    asked = await post_form(client, page_path, action, data)
    assert asked.status_code == 200, asked.text
    assert "Are you sure?" in asked.text, asked.text
    fields = hidden_fields(asked, action)
    assert fields["confirmed"] == "yes"
    return await client.post(action, data=fields)


def text_of(page: httpx.Response) -> str:
    """The page's visible text, tags removed and whitespace collapsed, for assertions."""
    without_tags = re.sub(r"<[^>]+>", " ", page.text)
    return " ".join(without_tags.replace("&#39;", "'").replace("&amp;", "&").split())
