"""Encrypting secrets that tocsin must replay: signing secrets, provider credentials.

Secrets that are only compared (API keys, integration keys) are stored as SHA-256 and
never need this. Secrets tocsin must present or recompute an HMAC with are encrypted with
Fernet (AES-128-CBC plus HMAC-SHA256, with a timestamp), under a key derived from the
installation's secret key by HKDF with its own purpose string, so the encryption key
never doubles as the CSRF key.

Rotation: a ``Cipher`` built with previous secret keys still decrypts what they
encrypted (``MultiFernet`` tries each key in turn) and always encrypts with the current
one; ``rotate`` re-encrypts a stored value under the current key.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tocsin.security import secret_key

PURPOSE = "tocsin encryption v1"


class CannotDecrypt(Exception):
    """Raised when no key opens a stored value: the secret key changed and the old one
    was not given as a previous key, or the value was altered."""


class Cipher:
    """Encrypts with the current key; decrypts with the current or any previous one."""

    def __init__(self, secret: bytes, previous: Sequence[bytes] = ()) -> None:
        self._fernet = MultiFernet([Fernet(fernet_key(key)) for key in (secret, *previous)])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise CannotDecrypt("no current or previous key decrypts this value") from error

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted under the current key (a no-op for its plaintext)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as error:
            raise CannotDecrypt("no current or previous key decrypts this value") from error


def fernet_key(secret: bytes) -> bytes:
    """The url-safe base64 Fernet key derived from an installation secret key."""
    return base64.urlsafe_b64encode(secret_key.derive(secret, PURPOSE))
