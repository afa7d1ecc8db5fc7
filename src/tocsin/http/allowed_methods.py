"""The methods a path answers to: the ``Allow`` header of a 405.

Starlette answers a request whose path matches but whose method does not from the first
route with that path, and lists that route's methods only; tocsin declares one route per
method, so ``OPTIONS /api/v1/teams`` said ``Allow: GET`` although ``POST`` is there too.
The whole answer comes from asking every route of the app, for each method, whether it
would take the request.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Match, Mount
from starlette.types import Scope

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed(app: Starlette, scope: Scope) -> list[str]:
    """The methods some route of ``app`` takes at the request's path, in ``METHODS`` order.

    Mounts (static files) are left out: they match a path whatever the method and answer
    their own 405s.
    """
    routes = [route for route in app.router.routes if not isinstance(route, Mount)]
    found = []
    for method in METHODS:
        probe: Scope = {
            "type": "http",
            "method": method,
            "path": scope["path"],
            "root_path": scope.get("root_path", ""),
        }
        if any(route.matches(dict(probe))[0] is Match.FULL for route in routes):
            found.append(method)
    return found
