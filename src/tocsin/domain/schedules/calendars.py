"""iCalendar (RFC 5545) feeds of shifts, for Google Calendar, Outlook and the like.

Written with the ``icalendar`` library rather than by hand: it folds long lines, escapes
text and formats dates the way subscribers expect. Events are in UTC, so no VTIMEZONE is
needed and no subscriber re-interprets a wall-clock time. Each event's UID is derived from
what it describes (feed, person, start), so a refreshed feed updates events in place
instead of duplicating them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import icalendar

PRODUCT_ID = "-//tocsin//on-call schedules//EN"


@dataclass(frozen=True)
class CalendarEvent:
    key: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""


def feed(name: str, events: Iterable[CalendarEvent], *, now: datetime) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in events:
        event = icalendar.Event()
        event.add("uid", f"{hashlib.sha256(item.key.encode()).hexdigest()[:32]}@tocsin")
        event.add("dtstamp", now)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    text: bytes = calendar.to_ical()
    return text
