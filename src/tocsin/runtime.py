"""Resolving the database an edge runs against: the configured server or the embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tocsin.config import Settings
from tocsin.db.embedded import EmbeddedPostgres


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a URL for the database; an embedded server started here stops on exit (unless
    another tocsin process still uses it)."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    url = embedded.start()
    try:
        yield url
    finally:
        embedded.stop()
