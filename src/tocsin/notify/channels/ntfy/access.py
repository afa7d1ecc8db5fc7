"""An ntfy topic's access token (for a server or topic that needs one), kept encrypted in
the contact method's details with the installation's key, like Slack's bot tokens."""

from __future__ import annotations

from typing import Any

from tocsin.config import Settings
from tocsin.security import secret_key
from tocsin.security.encryption import Cipher

TOKEN = "token_encrypted"  # noqa: S105 - the key it is kept under, not a token


def cipher(settings: Settings) -> Cipher:
    return Cipher(secret_key.load_or_create(settings))


def details(settings: Settings, access_token: str | None) -> dict[str, Any]:
    token = (access_token or "").strip()
    return {TOKEN: cipher(settings).encrypt(token)} if token else {}
