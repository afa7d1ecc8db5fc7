"""How pages show instants, durations and links: instants in the viewer's own time zone,
naming it.

Instants are stored in UTC; a person reading a timeline at 3 a.m. wants their own clock,
and a zone abbreviation beside it so that a screenshot pasted into a chat is unambiguous.
The filters read the viewer (``me``) from the template context, so templates write
``{{ incident.created_at | local }}`` and never pass a zone around.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from tocsin.domain.schedules import localtime
from tocsin.errors import InvalidInput
from tocsin.ingest.sender_config import kind_name


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(instant: datetime | None, zone: str | None, *, seconds: bool = False) -> str:
    """``Mon 5 Jan 2026 10:00 CET`` (with ``:05`` seconds for timelines); ``—`` for none."""
    if instant is None:
        return "—"
    local = instant.astimezone(zone_of(zone))
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %Y} {clock} {local.tzname()}"


def wall_time(local: datetime | None) -> str:
    """A wall-clock reading with no zone of its own (a layer's handoff time)."""
    if local is None:
        return "—"
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def duration(value: timedelta | float | int | None) -> str:
    """``2 d 3 h``, ``3 h 5 min``, ``4 min 10 s``: the two largest units, for reading."""
    if value is None:
        return "—"
    total = int(value.total_seconds() if isinstance(value, timedelta) else value)
    days, rest = divmod(max(total, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{amount} {unit}" for amount, unit in parts if amount][:2]
    return " ".join(shown) or "0 s"


def parse_local(text: str | None, zone: str, field: str) -> datetime:
    """An instant from an ``<input type="datetime-local">`` read in ``zone``, by the rules
    schedules use (a skipped time moves forward by the gap, a repeated one is the first)."""
    try:
        wall = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(field, "give a date and time, such as 2026-03-02T09:00") from None
    if wall.tzinfo is not None:
        return wall
    return localtime.resolve(wall, zone_of(zone))


def web_link(href: object) -> str | None:
    """``href`` if it is an http(s) URL, else ``None``: alert payloads come from outside,
    and a ``javascript:`` link would run in the responder's session when clicked."""
    if not isinstance(href, str):
        return None
    scheme = urlsplit(href.strip()).scheme.lower()
    return href.strip() if scheme in ("http", "https") else None


# A URL in plain text ends at white space or an angle bracket; trailing punctuation is the
# sentence's, not the link's ("see https://x/y.").
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+")
_SENTENCE_END = ".,;:!?)]"


def linkify(text: str | None) -> Markup:
    """``text`` escaped, with its http(s) URLs made links (a mail's text part, shown in
    the outbox, whose action links must work when clicked)."""
    text = text or ""
    shown = Markup()
    last = 0
    for found in _URL_IN_TEXT.finditer(text):
        url = found.group().rstrip(_SENTENCE_END)
        shown += escape(text[last : found.start()])
        shown += Markup('<a href="{0}">{0}</a>').format(url)  # format() escapes the url
        last = found.start() + len(url)
    return shown + escape(text[last:])


def viewer_zone(context: Context) -> str:
    me: Any = context.get("me")
    zone = getattr(me, "time_zone", None)
    return zone if isinstance(zone, str) else "UTC"


@pass_context
def _local(context: Context, instant: datetime | None, seconds: bool = False) -> str:
    return local_time(instant, viewer_zone(context), seconds=seconds)


@pass_context
def _local_input(context: Context, instant: datetime | None) -> str:
    """The value of an ``<input type="datetime-local">`` in the viewer's zone."""
    if instant is None:
        return ""
    return f"{instant.astimezone(zone_of(viewer_zone(context))):%Y-%m-%dT%H:%M}"


@functools.cache
def time_zones() -> tuple[str, ...]:
    """The IANA zones a person picks from (``Europe/Berlin``), without the legacy aliases."""
    return tuple(
        sorted(
            zone
            for zone in zoneinfo.available_timezones()
            if "/" in zone and not zone.startswith(("Etc/", "SystemV/"))
        )
    )


def install(environment: Environment) -> None:
    environment.globals["time_zones"] = time_zones
    environment.filters["local"] = _local
    environment.filters["local_input"] = _local_input
    environment.filters["duration"] = duration
    environment.filters["wall"] = wall_time
    environment.filters["web_link"] = web_link
    environment.filters["linkify"] = linkify
    environment.filters["integration_kind"] = kind_name
