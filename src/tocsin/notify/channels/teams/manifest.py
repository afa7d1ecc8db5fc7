"""The Teams app package: what an admin uploads to Teams (Teams admin center → Manage
apps → Upload, or Teams → Apps → Manage your apps → Upload an app) so people can add
tocsin's bot (``tocsin teams manifest``).

The package is a zip of ``manifest.json`` and two icons (192 px colour, 32 px white
outline on transparent). The bot is personal scope only: tocsin pages people one to one,
and a Teams channel gets its incidents through a Workflows webhook instead. Permissions:
``identity`` (Teams tells the bot who the person is, their Entra object id, which is how
they are linked) and ``messageTeamMembers`` (the bot may message a person first: pages
are proactive messages).
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
ICONS = ("color.png", "outline.png")


def manifest(app_id: str, base_url: str, *, version: str = "1.0.0") -> dict[str, Any]:
    host = urlsplit(base_url).hostname or ""
    return {
        "$schema": SCHEMA,
        "manifestVersion": "1.17",
        "version": version,
        "id": app_id,
        "developer": {
            "name": "tocsin",
            "websiteUrl": base_url,
            "privacyUrl": base_url,
            "termsOfUseUrl": base_url,
        },
        "name": {"short": "tocsin", "full": "tocsin on-call alerting"},
        "description": {
            "short": "On-call pages you can acknowledge, resolve and escalate in Teams.",
            "full": (
                "tocsin pages you in this chat when you are on call. Each page has buttons to "
                "acknowledge, resolve or escalate the incident, acting as your tocsin account. "
                "Type 'link' to link your Teams account to tocsin."
            ),
        },
        "icons": {"color": ICONS[0], "outline": ICONS[1]},
        "accentColor": "#B3261E",
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": "link", "description": "Link your Teams account to tocsin"},
                            {"title": "help", "description": "What this bot does"},
                        ],
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host] if host else [],
    }


def package(app_id: str, base_url: str) -> bytes:
    """The app package zip, as Teams takes it."""
    icons = resources.files("tocsin.notify.channels.teams") / "icons"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest(app_id, base_url), indent=2))
        for name in ICONS:
            archive.writestr(name, (icons / name).read_bytes())
    return buffer.getvalue()
