"""CSRF tokens for browser requests that change state.

Requests authenticated by an API key need none (a browser never attaches one by itself).
Requests authenticated by the session cookie must carry a token, in the ``csrf_token`` form
field or the ``X-CSRF-Token`` header (htmx sends it on every request), that is an HMAC of
the session. Forms shown before sign-in (the login form) bind the token to a random
``tocsin_csrf`` cookie instead. SameSite cookies already stop most cross-site posts; the
token covers older browsers and same-site subdomains.
"""

from __future__ import annotations

from tocsin.security import tokens

SESSION_COOKIE = "tocsin_session"
ANONYMOUS_COOKIE = "tocsin_csrf"
HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def for_session(key: bytes, session_token: str) -> str:
    return tokens.sign(key, "session:" + tokens.digest(session_token))


def for_anonymous(key: bytes, nonce: str) -> str:
    return tokens.sign(key, "anonymous:" + nonce)


def session_token_valid(key: bytes, session_token: str, presented: str | None) -> bool:
    return bool(presented) and tokens.signature_matches(
        key, "session:" + tokens.digest(session_token), presented or ""
    )


def anonymous_token_valid(key: bytes, nonce: str | None, presented: str | None) -> bool:
    return bool(nonce and presented) and tokens.signature_matches(
        key, "anonymous:" + (nonce or ""), presented or ""
    )
