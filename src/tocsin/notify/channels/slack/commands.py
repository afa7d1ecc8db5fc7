"""The ``/tocsin`` slash command's words (pure): what a person typed, as a command."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verb(StrEnum):
    ACKNOWLEDGE = "ack"
    RESOLVE = "resolve"
    INCIDENTS = "incidents"
    ONCALL = "oncall"
    LINK = "link"
    HELP = "help"


ALIASES = {
    "ack": Verb.ACKNOWLEDGE,
    "acknowledge": Verb.ACKNOWLEDGE,
    "resolve": Verb.RESOLVE,
    "incidents": Verb.INCIDENTS,
    "open": Verb.INCIDENTS,
    "oncall": Verb.ONCALL,
    "on-call": Verb.ONCALL,
    "link": Verb.LINK,
    "help": Verb.HELP,
}

HELP = (
    "*/tocsin* commands:\n"
    "• `/tocsin ack 123`: acknowledge incident #123\n"
    "• `/tocsin resolve 123`: resolve incident #123\n"
    "• `/tocsin incidents`: the open incidents\n"
    "• `/tocsin oncall [schedule]`: who is on call now\n"
    "• `/tocsin link`: link your Slack account to your tocsin account\n"
    "• `/tocsin help`: this list"
)


@dataclass(frozen=True)
class Command:
    verb: Verb
    number: int | None = None
    argument: str = ""


@dataclass(frozen=True)
class Unparsed:
    reason: str


def parse(text: str) -> Command | Unparsed:
    words = text.strip().split()
    if not words:
        return Command(Verb.HELP)
    verb = ALIASES.get(words[0].lower())
    if verb is None:
        return Unparsed(f"I don't know `{words[0][:40]}`. Try `/tocsin help`.")
    rest = words[1:]
    if verb in (Verb.ACKNOWLEDGE, Verb.RESOLVE):
        if len(rest) != 1 or not rest[0].lstrip("#").isdigit() or len(rest[0]) > 12:
            return Unparsed(f"Say which incident: `/tocsin {verb.value} 123`.")
        return Command(verb, number=int(rest[0].lstrip("#")))
    return Command(verb, argument=" ".join(rest)[:200])
