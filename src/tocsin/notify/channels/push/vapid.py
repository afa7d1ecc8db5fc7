"""The VAPID key pushes are signed with (RFC 8292), through ``py_vapid``.

Given in ``TOCSIN_VAPID_PRIVATE_KEY`` or generated once into the data folder: a browser
subscribes to the public half, and a push signed with any other key is refused (403), so
the key must outlive restarts and be the same on every host.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from tocsin.config import Settings
from tocsin.security import files

KEY_FILE_NAME = "vapid_private_key.pem"


def load_or_create(settings: Settings) -> Vapid:
    if settings.vapid_private_key is not None:
        given = settings.vapid_private_key.get_secret_value().strip()
        if given.startswith("-----BEGIN"):
            return Vapid.from_pem(given.encode())
        return Vapid.from_string(given)
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        fresh = Vapid()
        fresh.generate_keys()
        files.write_once(path, fresh.private_pem().decode())
    return Vapid.from_pem(path.read_bytes())


def application_server_key(vapid: Vapid) -> str:
    """The public key as ``pushManager.subscribe`` takes it: the uncompressed P-256 point,
    base64url without padding."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
