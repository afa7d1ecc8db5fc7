"""A team's channel posts: places a team names get the incidents of every one of its
services, besides each service's own; the API (same shape and errors as a service's) and
the team and service pages manage them."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.fakes.slack import FakeSlack
from tests.notify.conftest import Oncall
from tests.scenarios.conftest import send, trigger
from tocsin.engine.loop import Engine


async def _admin(oncall: Oncall) -> httpx.AsyncClient:
    ada = await oncall.seed.user("Ada", email="ada@example.com", admin=True)
    return await oncall.seed.as_user(ada)


async def _service(client: httpx.AsyncClient) -> dict[str, str]:
    listed = await client.get("/api/v1/services")
    return next(s for s in listed.json()["items"] if s["name"] == "payments-api")


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_a_team_names_places_through_the_api_as_a_service_does(
    linked: Oncall, slack: FakeSlack
) -> None:
    admin = await _admin(linked)
    team_id = (await _service(admin))["team_id"]
    places = f"/api/v1/teams/{team_id}/post-targets"

    added = await admin.post(
        places, json={"kind": "slack", "address": "c0payments", "label": "#payments"}
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["team_id"], body["service_id"], body["address"]) == (team_id, None, "C0PAYMENTS")
    assert (await admin.get(places)).json() == [body]

    bad_address = await admin.post(places, json={"kind": "slack", "address": "#payments"})
    assert bad_address.status_code == 422
    assert bad_address.headers["content-type"] == "application/problem+json"
    assert "address" in bad_address.text
    not_posting = await admin.post(places, json={"kind": "email", "address": "a@example.com"})
    assert not_posting.status_code == 422
    assert "kind" in not_posting.text
    nowhere = await admin.post(
        f"/api/v1/teams/{uuid.uuid4()}/post-targets", json={"kind": "slack", "address": "C0X1"}
    )
    assert nowhere.status_code == 404
    assert nowhere.headers["content-type"] == "application/problem+json"
    responder = await linked.seed.as_user(linked.bob)
    refused = await responder.post(places, json={"kind": "slack", "address": "C0BOB1"})
    assert refused.status_code == 403
    assert len((await responder.get(places)).json()) == 1  # reading is open, as for services

    # A team's place is not the service's: removing it through the service finds nothing.
    service_id = (await _service(admin))["id"]
    assert (await admin.get(f"/api/v1/services/{service_id}/post-targets")).json() == []
    wrong = await admin.delete(f"/api/v1/services/{service_id}/post-targets/{body['id']}")
    assert wrong.status_code == 404
    assert (await admin.delete(f"{places}/{body['id']}")).status_code == 204
    assert (await admin.get(places)).json() == []


async def test_an_incident_is_posted_to_its_team_places_and_its_service_places(
    client: httpx.AsyncClient, linked: Oncall, engine: Engine, slack: FakeSlack
) -> None:
    admin = await _admin(linked)
    service = await _service(admin)
    for owner, address in (("teams", "C0TEAMWIDE"), ("services", "C0SERVICE")):
        owner_id = service["team_id"] if owner == "teams" else service["id"]
        added = await admin.post(
            f"/api/v1/{owner}/{owner_id}/post-targets",
            json={"kind": "slack", "address": address, "label": address},
        )
        assert added.status_code == 201, added.text

    await send(client, linked.key, trigger("db-1/disk"))
    await engine.tick()

    slack.expect("chat.postMessage", channel="U0ALICE")  # the page itself, as ever
    team_post = slack.expect("chat.postMessage", channel="C0TEAMWIDE")
    assert team_post.action_ids() == ["acknowledge", "resolve", "escalate", "snooze"]
    assert "Disk full on db-1" in team_post.text
    slack.expect("chat.postMessage", channel="C0SERVICE")
    # One post per place: the strict fake fails the test on a second.


async def test_the_team_and_service_pages_list_add_and_remove_places(
    linked: Oncall, slack: FakeSlack
) -> None:
    admin = await _admin(linked)
    service = await _service(admin)
    team_url = f"/teams/{service['team_id']}"

    page = await admin.get(team_url)
    assert page.status_code == 200
    assert "Channel posts" in page.text
    refused = await admin.post(
        f"{team_url}/post-targets",
        data={"csrf_token": _csrf(page), "kind": "slack", "address": "#nope", "label": "x"},
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert "Not saved:" in refused.text
    assert "Slack channel id" in refused.text

    added = await admin.post(
        f"{team_url}/post-targets",
        data={"csrf_token": _csrf(page), "kind": "slack", "address": "C0TEAMWIDE", "label": "#ops"},
    )
    assert added.status_code == 303
    shown = await admin.get(team_url)
    assert "<code>C0TEAMWIDE</code>" in shown.text
    remove = re.search(r'action="(/teams/[^"]+/post-targets/[^"]+/remove)"', shown.text)
    assert remove is not None
    assert 'class="danger"' in shown.text
    assert (
        'name="confirm_question" value="Stop posting incidents to #ops? Posts already there stay."'
        in shown.text
    )

    # The service's page shows the team's place too, without a remove button there.
    service_page = await admin.get(f"/services/{service['id']}")
    assert "Also posted, for every service of" in service_page.text
    assert "<code>C0TEAMWIDE</code>" in service_page.text
    assert f'action="/services/{service["id"]}/post-targets"' in service_page.text
    assert (
        "/teams/"
        not in re.sub(r'href="/teams/[^"]+"', "", service_page.text)
        .split("Channel posts")[1]
        .split("Maintenance windows")[0]
    )

    own = await admin.post(
        f"/services/{service['id']}/post-targets",
        data={
            "csrf_token": _csrf(service_page),
            "kind": "slack",
            "address": "C0SERVICE",
            "label": "#payments",
        },
    )
    assert own.status_code == 303
    listed = (await admin.get(f"/api/v1/services/{service['id']}/post-targets")).json()
    assert [place["address"] for place in listed] == ["C0SERVICE"]

    asked = await admin.post(remove.group(1), data={"csrf_token": _csrf(shown)})
    assert "Are you sure?" in asked.text  # nothing removed until confirmed
    removed = await admin.post(
        remove.group(1), data={"csrf_token": _csrf(shown), "confirmed": "yes"}
    )
    assert removed.status_code == 303
    assert (await admin.get(f"/api/v1/teams/{service['team_id']}/post-targets")).json() == []

    # A responder sees the places but no forms to change them.
    responder = await linked.seed.as_user(linked.bob)
    looked = await responder.get(f"/services/{service['id']}")
    assert "<code>C0SERVICE</code>" in looked.text
    assert "post-targets" not in looked.text
    forged = await responder.post(
        f"{team_url}/post-targets",
        data={"csrf_token": _csrf(looked), "kind": "slack", "address": "C0BOB1", "label": "b"},
    )
    assert forged.status_code == 403
