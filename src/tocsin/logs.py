"""Log configuration: structlog for tocsin's own lines, the standard library for the rest."""

from __future__ import annotations

import logging
import sys

import structlog

from tocsin.config import Settings


def configure(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    quiet_libraries(level)


def quiet_libraries(level: int) -> None:
    """Raise the level of libraries that say too much for an operator."""
    # pgserver narrates every step of starting PostgreSQL at INFO.
    logging.getLogger("pgserver").setLevel(max(level, logging.WARNING))
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # psycopg's pool warns at every failed connection attempt; during a database outage
    # that is a line per attempt per pool. tocsin says it once (db/availability.py).
    logging.getLogger("psycopg.pool").setLevel(max(level, logging.ERROR))
