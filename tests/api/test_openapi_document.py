"""The shipped OpenAPI document is the one the code generates (``--update-golden`` rewrites it)."""

from __future__ import annotations

import json

import httpx
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
