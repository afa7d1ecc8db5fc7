"""What a call says (pure, golden-tested): the page read aloud with its keypad menu, the
short voicemail left on an answering machine, the answers to a key, and a code read digit
by digit.

Text to speech reads what it is given: symbols, URLs and long hostnames from monitoring
tools become noise, so a title is reduced to words and cut, and numbers are said the way a
person says them ("incident 1234", a code "4, 1, 7, ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tocsin.notify import wording

TITLE_WORDS = 30
MENU = (
    "Press 1 to acknowledge. Press 2 to resolve. Press 3 to hear this again. "
    "Press 9 to escalate now."
)
DIGEST_MENU = (
    "Press 1 to acknowledge all of them. Press 2 to resolve all of them. "
    "Press 3 to hear this again."
)
GOODBYE = "Goodbye."
NO_KEY = "No key was pressed."
UNKNOWN_KEY = "That key does nothing here."

# A ``Key`` is what pressing a digit asks for (``keys`` below).
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
REPEAT = "repeat"
ESCALATE = "escalate"
KEYS = {"1": ACKNOWLEDGE, "2": RESOLVE, "3": REPEAT, "9": ESCALATE}


@dataclass(frozen=True)
class Incident:
    """An incident as a call says it."""

    number: int
    title: str
    service: str
    severity: str
    status: str
    acknowledged_by: str | None = None
    resolved_by: str | None = None


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_NOISE = re.compile(r"[^\w\s.,:;!?'()-]+")


def spoken(text: str, *, words: int = TITLE_WORDS) -> str:
    """``text`` as a speech engine should read it: no URLs or symbol runs, at most
    ``words`` words."""
    plain = _NOISE.sub(" ", _URL.sub(" link ", text)).replace("_", " ")
    kept = plain.split()
    cut = " ".join(kept[:words])
    return cut + (" and more" if len(kept) > words else "")


def digits(code: str) -> str:
    """A code read one digit at a time: ``4, 1, 7, 2, 0, 9``."""
    return ", ".join(code)


def page(incident: Incident, *, name: str, level: int) -> str:
    escalation = f", escalation level {level}" if level >= 2 else ""
    priority = wording.priority(incident.severity).lower()
    return (
        f"Hello {spoken(name, words=4)}. This is tocsin{escalation}, with a {priority} "
        f"priority page. Incident {incident.number}, on {spoken(incident.service, words=8)}: "
        f"{spoken(incident.title)}."
    )


def digest(incidents: list[Incident], *, name: str) -> str:
    worst = wording.priority(wording.highest([i.severity for i in incidents])).lower()
    numbers = ", ".join(str(i.number) for i in incidents[:10])
    more = f", and {len(incidents) - 10} more" if len(incidents) > 10 else ""
    return (
        f"Hello {spoken(name, words=4)}. This is tocsin. {len(incidents)} incidents are "
        f"open for you, the worst {worst} priority: incidents {numbers}{more}."
    )


def voicemail(incident: Incident) -> str:
    priority = wording.priority(incident.severity).lower()
    return (
        f"This is tocsin with a {priority} priority page: incident {incident.number}, on "
        f"{spoken(incident.service, words=8)}: {spoken(incident.title, words=15)}. "
        f"Open tocsin to respond. {GOODBYE}"
    )


def settled(incident: Incident) -> str:
    """The incident no longer needs this person: said instead of the menu."""
    if incident.resolved_by or incident.status == "resolved":
        by = f" by {spoken(incident.resolved_by, words=4)}" if incident.resolved_by else ""
        return f"Incident {incident.number} is already resolved{by}. {GOODBYE}"
    by = f" by {spoken(incident.acknowledged_by, words=4)}" if incident.acknowledged_by else ""
    return f"Incident {incident.number} is already acknowledged{by}. {GOODBYE}"


def done(key: str, numbers: list[int]) -> str:
    what = {ACKNOWLEDGE: "acknowledged", RESOLVE: "resolved", ESCALATE: "escalated"}[key]
    said = "Incident " + str(numbers[0]) if len(numbers) == 1 else f"{len(numbers)} incidents"
    escalated = " to the next level" if key == ESCALATE else ""
    return f"{said} {what}{escalated}. {GOODBYE}"


def exhausted(number: int) -> str:
    return (
        f"Incident {number} has no level left to escalate to: everyone in its policy was "
        f"paged. {GOODBYE}"
    )


def verification(code: str) -> str:
    return f"Your tocsin code is {digits(code)}. Again, your code is {digits(code)}. {GOODBYE}"


def shift(schedule: str) -> str:
    on = spoken(schedule, words=8)
    return f"This is tocsin. Your on-call shift on {on} starts now. {GOODBYE}"


def nothing_open() -> str:
    return f"Every incident of this page is already acknowledged or resolved. {GOODBYE}"


def status(incident: Incident, *, event: str, by: str) -> str:
    return (
        f"This is tocsin. Incident {incident.number}, {spoken(incident.title, words=15)}, "
        f"was {event} by {spoken(by, words=4)}. {GOODBYE}"
    )
