"""Bearer secrets that are only ever compared: generated here, stored as SHA-256.

A token is shown once to whoever receives it; the database keeps only its digest, so a
copy of the database does not let anyone act with it. 32 random bytes is 256 bits of
entropy, far beyond guessing, so a fast unsalted digest is the right tool (unlike
passwords, which need argon2).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_PREFIX = "tsk_"
TOKEN_BYTES = 32


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> str:
    return new_token(API_KEY_PREFIX)


def display_prefix(token: str) -> str:
    """Enough of a key to recognise it in a list, far too little to use it."""
    return token[: len(API_KEY_PREFIX) + 6]


def sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: bytes, message: str, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, message), signature)
