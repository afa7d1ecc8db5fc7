"""The Slack app manifest: an admin creates tocsin's Slack app by pasting it at
api.slack.com/apps → Create New App → From a manifest (``tocsin slack manifest``).

Each scope is there for one reason: ``chat:write`` to post pages and channel posts and
update them, ``im:write`` to open the direct message a page goes to, ``commands`` for
``/tocsin``, ``users:read`` to show people's names. Nothing that reads messages. The
user scopes ``openid`` and ``profile`` are Sign in with Slack's: they tell tocsin who a
person is in Slack when they link it from their settings page, and nothing else.

Token rotation stays off unless ``TOCSIN_SLACK_TOKEN_ROTATION`` asks for it: tocsin
renews rotating tokens (``web_api.py``), but Slack cannot turn rotation off again for an
app, and a renewal refused (a revoked refresh token) disables the workspace until it is
installed again, so it is a choice for the admin, not a default.
"""

from __future__ import annotations

from typing import Any

BOT_SCOPES = ("chat:write", "im:write", "commands", "users:read")
SIGN_IN_SCOPES = ("openid", "profile")


def manifest(base_url: str, *, token_rotation: bool = False) -> dict[str, Any]:
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
            "redirect_urls": [
                f"{base_url}/slack/oauth/callback",
                f"{base_url}/slack/signin/callback",
            ],
            "scopes": {"bot": list(BOT_SCOPES), "user": list(SIGN_IN_SCOPES)},
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
            "token_rotation_enabled": token_rotation,
        },
    }
