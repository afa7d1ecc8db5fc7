"""The installation's secret key: given in ``TOCSIN_SECRET_KEY`` or generated once.

When generated, it is written to ``<data_dir>/secret_key`` with mode 0600 and reused on
every later start, so sessions and signed links survive restarts. Sub-keys for each purpose
(CSRF tokens, encryption) are derived with HKDF so that one purpose's key never doubles
as another's.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tocsin.config import Settings
from tocsin.security import files

KEY_FILE_NAME = "secret_key"


def load_or_create(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / KEY_FILE_NAME
    if path.exists():
        return path.read_text().strip().encode()
    return _create(path)


def _create(path: Path) -> bytes:
    return files.write_once(path, secrets.token_urlsafe(48)).encode()


def derive(secret: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
        secret
    )
