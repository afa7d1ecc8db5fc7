"""The cipher for replayable secrets: round trips, key separation and rotation."""

from __future__ import annotations

import pytest

from tocsin.security.encryption import CannotDecrypt, Cipher

OLD = b"the old installation secret key"
NEW = b"the new installation secret key"


def test_round_trip_without_the_plaintext_in_the_token() -> None:
    cipher = Cipher(NEW)
    token = cipher.encrypt("whsec_c2VjcmV0")
    assert "whsec_" not in token
    assert token != cipher.encrypt("whsec_c2VjcmV0")  # a fresh IV every time
    assert cipher.decrypt(token) == "whsec_c2VjcmV0"


def test_another_installation_cannot_decrypt() -> None:
    token = Cipher(OLD).encrypt("secret")
    with pytest.raises(CannotDecrypt):
        Cipher(NEW).decrypt(token)
    with pytest.raises(CannotDecrypt):
        Cipher(NEW).decrypt("not a token")


def test_previous_keys_decrypt_and_rotate_moves_to_the_current_key() -> None:
    old_token = Cipher(OLD).encrypt("secret")
    rotating = Cipher(NEW, previous=[OLD])
    assert rotating.decrypt(old_token) == "secret"
    rotated = rotating.rotate(old_token)
    assert Cipher(NEW).decrypt(rotated) == "secret"
    with pytest.raises(CannotDecrypt):
        Cipher(OLD).decrypt(rotated)
