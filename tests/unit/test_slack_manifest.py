"""The Slack manifest's Sign in with Slack and token rotation parts."""

from __future__ import annotations

from tocsin.notify.channels.slack.manifest import manifest


def test_sign_in_with_slack_has_its_redirect_and_only_identity_scopes() -> None:
    made = manifest("https://oncall.example.com")
    assert (
        "https://oncall.example.com/slack/signin/callback"
        in (made["oauth_config"]["redirect_urls"])
    )
    assert made["oauth_config"]["scopes"]["user"] == ["openid", "profile"]


def test_token_rotation_is_off_unless_asked_for() -> None:
    assert manifest("https://x.test")["settings"]["token_rotation_enabled"] is False
    rotating = manifest("https://x.test", token_rotation=True)
    assert rotating["settings"]["token_rotation_enabled"] is True
