"""Signing in and out through the pages, with the protections a login page needs."""

from __future__ import annotations

import re

import httpx

from tests.builders import PASSWORD, Seed
from tocsin.clock import FrozenClock


def csrf_from(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def login(
    client: httpx.AsyncClient, email: str, password: str, next_path: str = "/"
) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(form),
            "next": next_path,
        },
    )


async def test_password_login_sets_a_secure_httponly_samesite_session_cookie(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    user = await seed.user("Lou", password=PASSWORD)
    response = await login(client, user.email.upper(), PASSWORD, next_path="/teams")
    assert response.status_code == 303
    assert response.headers["location"] == "/teams"
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("tocsin_session=")
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    home = await client.get("/")
    assert home.status_code == 200
    assert "Hello, Lou" in home.text


async def test_a_wrong_password_is_401_and_does_not_reveal_whether_the_account_exists(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    user = await seed.user("Kim", password=PASSWORD)
    wrong = await login(client, user.email, "not the password at all")
    nobody = await login(client, "nobody@example.com", "not the password at all")
    assert wrong.status_code == nobody.status_code == 401
    assert "do not match" in wrong.text
    assert wrong.text.replace(user.email, "X") == nobody.text.replace("nobody@example.com", "X")


async def test_failed_logins_are_rate_limited_per_account_with_retry_after(
    client: httpx.AsyncClient, seed: Seed, clock: FrozenClock
) -> None:
    user = await seed.user("Max", password=PASSWORD)
    for _ in range(5):
        assert (await login(client, user.email, "guess guess guess")).status_code == 401
    blocked = await login(client, user.email, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) == 900
    clock.advance(seconds=901)
    assert (await login(client, user.email, PASSWORD)).status_code == 303


async def test_failed_logins_are_rate_limited_per_address(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    victim = await seed.user("Vic", password=PASSWORD)
    for number in range(20):
        await login(client, f"spray{number}@example.com", "guess guess guess")
    blocked = await login(client, victim.email, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


async def test_login_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    user = await seed.user("Cy", password=PASSWORD)
    response = await client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403


async def test_the_next_parameter_never_leaves_the_site(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    user = await seed.user("Nel", password=PASSWORD)
    response = await login(client, user.email, PASSWORD, next_path="//evil.example/steal")
    assert response.headers["location"] == "/"


async def test_pages_send_visitors_to_login_and_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/teams?cursor=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/teams%3Fcursor%3Dx"


async def test_sessions_end_after_being_idle(
    client: httpx.AsyncClient, seed: Seed, clock: FrozenClock
) -> None:
    user = await seed.user("Ida", password=PASSWORD)
    await login(client, user.email, PASSWORD)
    clock.advance(hours=11)
    assert (await client.get("/")).status_code == 200
    clock.advance(hours=11)
    assert (await client.get("/")).status_code == 200  # used 11 h ago: still within 12 h idle
    clock.advance(hours=12, seconds=1)
    assert (await client.get("/")).status_code == 303


async def test_a_login_link_signs_in_once_and_only_on_post(
    client: httpx.AsyncClient, seed: Seed
) -> None:
    admin = await seed.as_user(await seed.user("Adm", admin=True))
    newbie = await seed.user("Newbie")
    link = (await admin.post(f"/api/v1/users/{newbie.id}/login-link")).json()["url"]
    path = link.removeprefix("https://tocsin.test")
    preview = await client.get(path)
    assert preview.status_code == 200
    assert "Sign in as Newbie" in preview.text
    assert (await client.get(path)).status_code == 200  # a scanner's GET consumed nothing
    used = await client.post(path, data={"csrf_token": csrf_from(preview)})
    assert used.status_code == 303
    assert (await client.get("/profile")).status_code == 200
    second_look = await client.get(path)
    assert second_look.status_code == 410
    assert "no longer works" in second_look.text
    fresh_token = csrf_from(await client.get("/login"))  # same anonymous cookie, valid token
    replay = await client.post(path, data={"csrf_token": fresh_token})
    assert replay.status_code == 410


async def test_cookie_authenticated_api_changes_need_the_csrf_header(seed: Seed) -> None:
    admin_client = await seed.as_user(await seed.user("Csa", admin=True))
    without = await admin_client.post(
        "/api/v1/teams", json={"name": "No CSRF"}, headers={"x-csrf-token": ""}
    )
    assert without.status_code == 403
    assert without.json()["type"] == "/problems/csrf-failed"
    assert (await admin_client.post("/api/v1/teams", json={"name": "With CSRF"})).status_code == 201


async def test_logout_ends_the_session(client: httpx.AsyncClient, seed: Seed) -> None:
    user = await seed.user("Out", password=PASSWORD)
    await login(client, user.email, PASSWORD)
    home = await client.get("/")
    response = await client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert response.status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_page_errors_are_pages(seed: Seed) -> None:
    user = await seed.user("Pat")
    client = await seed.as_user(user)
    response = await client.get("/admin/users", headers={"accept": "text/html"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    missing = await client.get(
        "/teams/00000000-0000-0000-0000-000000000000", headers={"accept": "text/html"}
    )
    assert missing.status_code == 404
    assert "<h1>Not found</h1>" in missing.text
