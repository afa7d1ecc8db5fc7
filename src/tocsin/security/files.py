"""Keys tocsin generates once into its data folder (the secret key, the VAPID key)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_once(path: Path, text: str) -> str:
    """Publish ``text`` at ``path`` (mode 0600) unless a file is there already; what the
    file holds afterwards, stripped: ``text``, or what another process wrote first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text.strip() + "\n")
    # link() is atomic and refuses to replace: if two processes start at once, exactly one
    # file is published, complete, and the loser reads the winner's.
    try:
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    return text.strip()
