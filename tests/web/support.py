"""What the page tests share: a browser-like client (session cookie, no CSRF header, so
every change must carry the form's token, as a real form post does) and form submission."""

from __future__ import annotations

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


def text_of(page: httpx.Response) -> str:
    """The page's visible text, tags removed and whitespace collapsed, for assertions."""
    without_tags = re.sub(r"<[^>]+>", " ", page.text)
    return " ".join(without_tags.replace("&#39;", "'").replace("&amp;", "&").split())
