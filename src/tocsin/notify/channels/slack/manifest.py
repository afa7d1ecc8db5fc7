"""The Slack app manifest: an admin creates tocsin's Slack app by pasting it at
api.slack.com/apps → Create New App → From a manifest (``tocsin slack manifest``).

Each scope is there for one reason: ``chat:write`` to post pages and channel posts and
update them, ``im:write`` to open the direct message a page goes to, ``commands`` for
``/tocsin``, ``users:read`` to show people's names. Nothing that reads messages.
"""

from __future__ import annotations

from typing import Any

BOT_SCOPES = ("chat:write", "im:write", "commands", "users:read")


def manifest(base_url: str) -> dict[str, Any]:
    return {
        "display_information": {
            "name": "tocsin",
            "description": "On-call pages: acknowledge, resolve and escalate incidents.",
            "background_color": "#b3261e",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "tocsin", "always_online": True},
            "slash_commands": [
                {
                    "command": "/tocsin",
                    "url": f"{base_url}/slack/commands",
                    "description": "Acknowledge, resolve, see incidents and who is on call",
                    "usage_hint": "ack 123 | resolve 123 | incidents | oncall | link | help",
                    "should_escape": False,
                }
            ],
        },
        "oauth_config": {
            "redirect_urls": [f"{base_url}/slack/oauth/callback"],
            "scopes": {"bot": list(BOT_SCOPES)},
        },
        "settings": {
            "event_subscriptions": {
                "request_url": f"{base_url}/slack/events",
                "bot_events": ["app_uninstalled", "tokens_revoked"],
            },
            "interactivity": {
                "is_enabled": True,
                "request_url": f"{base_url}/slack/interactions",
            },
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }
