"""Refuse requests whose URL carries a NUL byte, before any handler sees them.

Query parameters and path segments end up in SQL parameters, and PostgreSQL refuses text
containing NUL. Rather than have every parameter re-check it, such URLs are answered 400
here, naming the part at fault. (Bodies are checked by ``schemas.common.RequestBody``;
headers cannot carry NUL at all.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from tocsin.http.problems import problem_response


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query: bytes = scope.get("query_string", b"")
            part = None
            if b"%00" in query.lower() or b"\x00" in query:
                part = "query"
            elif "\x00" in scope.get("path", ""):
                part = "path"
            if part is not None:
                response = problem_response(
                    "invalid-input",
                    status=400,
                    detail=f"the {part} contains a NUL byte",
                    field=part,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
