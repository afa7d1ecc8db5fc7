"""What a text sent back to tocsin asks for (pure): ``1234A``, ``1234R``, ``ACK 1234``,
``RESOLVE 1234``, ``A`` or ``R`` alone, ``HELP``, and the carriers' keywords ``STOP``,
``START`` and ``UNSTOP``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Verb(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    HELP = "help"
    STOP = "stop"
    START = "start"


@dataclass(frozen=True)
class Reply:
    verb: Verb
    # None: "the one open incident that paged this number".
    number: int | None = None


SHORT = re.compile(r"^#?(\d{1,9})\s*([AR])$")
LONG = re.compile(r"^(ACK|ACKNOWLEDGE|RESOLVE)\s+#?(\d{1,9})$")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}

HELP = (
    "tocsin: reply 1234A to acknowledge incident 1234, 1234R to resolve it; "
    "A or R alone when one incident paged you. STOP ends texts, START resumes."
)


def parse(body: str) -> Reply | None:
    words = " ".join(body.upper().split())
    if words in STOP_WORDS:
        return Reply(Verb.STOP)
    if words in START_WORDS:
        return Reply(Verb.START)
    if words in ("HELP", "INFO", "?"):
        return Reply(Verb.HELP)
    if words in ("A", "ACK"):
        return Reply(Verb.ACKNOWLEDGE)
    if words in ("R", "RESOLVE"):
        return Reply(Verb.RESOLVE)
    if short := SHORT.match(words):
        verb = Verb.ACKNOWLEDGE if short.group(2) == "A" else Verb.RESOLVE
        return Reply(verb, int(short.group(1)))
    if long := LONG.match(words):
        verb = Verb.RESOLVE if long.group(1) == "RESOLVE" else Verb.ACKNOWLEDGE
        return Reply(verb, int(long.group(2)))
    return None
