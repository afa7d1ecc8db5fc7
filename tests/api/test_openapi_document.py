"""The shipped OpenAPI document is the one the code generates (``--update-golden`` rewrites it)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tocsin.api import openapi_document


def test_the_shipped_document_is_what_the_code_generates(app: FastAPI, update_golden: bool) -> None:
    generated = openapi_document.render(app.openapi())
    if update_golden:
        openapi_document.DOCUMENT.write_text(generated, encoding="utf-8")
    shipped = openapi_document.DOCUMENT.read_text(encoding="utf-8")
    assert shipped == generated, (
        "src/tocsin/api/openapi.json is stale: run pytest --update-golden and review the diff"
    )


async def test_the_server_sends_the_shipped_document(client: httpx.AsyncClient) -> None:
    served = await client.get("/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.json() == json.loads(openapi_document.DOCUMENT.read_text(encoding="utf-8"))
    assert served.json()["info"]["title"] == "tocsin"


def test_operations_name_how_they_authenticate(app: FastAPI) -> None:
    document = app.openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "tsk_…",
        "description": schemes["apiKey"]["description"],
    }
    assert (schemes["session"]["in"], schemes["session"]["name"]) == ("cookie", "tocsin_session")
    assert (schemes["GenieKey"]["in"], schemes["GenieKey"]["name"]) == ("header", "Authorization")
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    for (method, path), operation in operations.items():
        security = operation.get("security")
        if path.startswith("/api/v1/"):
            assert security == [{"apiKey": []}, {"session": []}], (method, path)
        elif path.startswith("/v2/alerts"):
            assert security == [{"GenieKey": []}], (method, path)
        elif path == "/metrics":
            assert security == [{"metricsToken": []}, {}]
        else:  # intake by key in the path, header or body; health checks
            assert security is None, (method, path)


def _expected_methods(document: dict[str, Any], concrete: str) -> list[str]:
    """The methods the document gives every path template that matches ``concrete``."""
    methods: set[str] = set()
    for template, item in document["paths"].items():
        formats = {
            parameter["name"]: parameter["schema"].get("format")
            for operation in item.values()
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "path"
        }
        if re.fullmatch(_pattern(template, formats), concrete):
            methods |= {method.upper() for method in item}
    return [method for method in METHODS if method in methods]


def _pattern(template: str, formats: dict[str, str | None]) -> str:
    """A regular expression of the URLs of ``template``; a ``uuid`` parameter takes UUIDs only."""

    def parameter(found: re.Match[str]) -> str:
        return UUID if formats.get(found.group(1)) == "uuid" else "[^/]+"

    return re.sub(r"\\\{(\w+)\\\}", parameter, re.escape(template))


UUID = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def test_every_path_answers_a_method_it_lacks_405_listing_all_the_methods_it_takes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    document = app.openapi()
    checked = 0
    for template in document["paths"]:
        concrete = re.sub(r"\{\w+\}", "0b9d3a52-6f1e-4c55-9a8e-2d7c1f0e4b11", template)
        expected = _expected_methods(document, concrete)
        for method in METHODS:
            if method in expected:
                continue
            response = await client.request(method, concrete)
            assert response.status_code == 405, (method, concrete, response.text)
            assert response.headers["allow"] == ", ".join(expected), (method, concrete)
            checked += 1
    assert checked > 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/teams", "GET, POST"),
        ("PATCH", "/api/v1/schedules/handoffs", "GET"),
        ("DELETE", "/api/v1/schedules/on-call", "GET"),
        ("PUT", "/api/v1/schedules/0b9d3a52-6f1e-4c55-9a8e-2d7c1f0e4b11", "GET, PATCH, DELETE"),
    ],
)
async def test_a_405_lists_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/method-not-allowed"
    assert allow in response.json()["detail"]


def test_a_second_identical_contact_method_is_a_documented_409(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path in ("/api/v1/me/contact-methods", "/api/v1/users/{user_id}/contact-methods"):
        assert "409" in paths[path]["post"]["responses"], path
    assert "409" in paths["/api/v1/contact-methods/{method_id}/resend"]["post"]["responses"]
