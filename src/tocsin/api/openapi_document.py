"""The OpenAPI document, generated from the code by the tests and shipped as a file.

FastAPI builds the document on the first request for it, running pydantic's JSON-schema
generation over every model; in a running server that leaves about 13 MB behind that is
never given back, a tenth of an idle tocsin (see docs/benchmarks.md). The document only
changes when the code does, so it is written at development time instead:
``tests/api/test_openapi_document.py`` fails when ``openapi.json`` differs from what the
code generates, and ``pytest --update-golden`` rewrites it. The server sends the file's
bytes as they are.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

DOCUMENT = Path(__file__).with_name("openapi.json")
URL = "/openapi.json"


def render(document: dict[str, Any]) -> str:
    """The file's text: indented, in the generator's key order, so that diffs are readable."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@cache
def _body() -> bytes:
    # Read on first use rather than when the app is built: the test that writes the file
    # builds an app before the file exists.
    return DOCUMENT.read_bytes()


def add_route(app: FastAPI) -> None:
    @app.get(URL, include_in_schema=False)
    async def openapi_document() -> Response:
        return Response(_body(), media_type="application/json")
