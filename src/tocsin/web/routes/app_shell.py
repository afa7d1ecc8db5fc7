"""What makes the pages an installable app: the web app manifest, the service worker
(served from the root, so its scope is every page), and the icons browsers ask for.

The service worker (``static/sw.js``) shows push notifications and posts their
Acknowledge / Resolve buttons; it caches nothing: an on-call tool that showed a stale
incident list offline would be worse than one that says it is offline.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from tocsin.web.pages import STATIC_DIR

router = APIRouter(include_in_schema=False)

MANIFEST = {
    "name": "tocsin",
    "short_name": "tocsin",
    "description": "On-call alerting: incidents, who is on call, acknowledge from anywhere.",
    "id": "/",
    "start_url": "/incidents",
    "scope": "/",
    "display": "standalone",
    "background_color": "#fff7f5",
    "theme_color": "#b3261e",
    "icons": [
        {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {
            "src": "/static/icon-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
        {"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"},
    ],
}


@router.get("/manifest.webmanifest")
async def manifest() -> JSONResponse:
    return JSONResponse(MANIFEST, media_type="application/manifest+json")


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    # Never cached by HTTP: browsers check for a new worker on each navigation anyway,
    # and a stale one would keep old notification handling after an upgrade.
    return FileResponse(
        STATIC_DIR / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/favicon.ico")
async def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)
