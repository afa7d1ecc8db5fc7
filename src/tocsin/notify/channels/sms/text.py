"""What a text says, in GSM-7, and how long it is (pure, golden-tested).

A text in GSM-7 carries 160 characters in one segment (153 per segment when split); one
character outside it makes the whole message UCS-2, 70 characters a segment, and a page
costs three times as much and may arrive in pieces. So every text is made GSM-7: common
typography (curly quotes, dashes, ellipses, non-breaking spaces) is replaced by its plain
form, accents are dropped where GSM-7 lacks the letter, and anything else becomes ``?``.
A page fits one segment in the common case (its title is cut to fit) and never more than
three.
"""

from __future__ import annotations

import unicodedata

from tocsin.domain.deliveries import Purpose
from tocsin.domain.notices import IncidentFacts, Notice
from tocsin.notify import wording

# The GSM 03.38 default alphabet, and its extension table (each costs two septets).
BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = set("^{}\\[~]|€")
PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2022": "*",
    "\t": " ",
    "`": "'",
}
SINGLE = 160
PART = 153
MAX_SEGMENTS = 3


def gsm7(text: str) -> str:
    out: list[str] = []
    for char in text:
        if char in BASIC or char in EXTENDED:
            out.append(char)
            continue
        if char in PLAIN:
            out.append(PLAIN[char])
            continue
        stripped = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if stripped and all(c in BASIC for c in stripped):
            out.append(stripped)
        elif unicodedata.category(char).startswith(("C", "Z")):
            out.append(" ")
        else:
            out.append("?")
    return "".join(out)


def septets(text: str) -> int:
    return sum(2 if char in EXTENDED else 1 for char in text)


def segments(text: str) -> int:
    length = septets(text)
    return 1 if length <= SINGLE else -(-length // PART)


def fit(text: str, septet_budget: int) -> str:
    """``text`` cut to at most ``septet_budget`` septets, with "..." when cut."""
    if septets(text) <= septet_budget:
        return text
    cut = ""
    for char in text:
        if septets(cut + char) > septet_budget - 3:
            break
        cut += char
    return cut.rstrip() + "..."


def short_url(base_url: str, number: int) -> str:
    return f"{base_url}/incidents/number/{number}"


def page(facts: IncidentFacts, *, level: int, base_url: str) -> str:
    """``tocsin #1234 [HIGH] <title> - reply 1234A to ack, 1234R to resolve <link>``, the
    title cut so that the whole is one segment when it can be, three at most."""
    priority = wording.priority(facts.severity)
    head = gsm7(f"{wording.escalation_prefix(level)}tocsin #{facts.number} [{priority}] ")
    tail = gsm7(
        f" - reply {facts.number}A to ack, {facts.number}R to resolve "
        f"{short_url(base_url, facts.number)}"
    )
    title = gsm7(" ".join(facts.title.split()))
    room = SINGLE - septets(head) - septets(tail)
    if room < 20:
        room = PART * MAX_SEGMENTS - septets(head) - septets(tail)
    return head + fit(title, max(room, 10)) + tail


def message(notice: Notice) -> str:
    """The text of any notice: a page, a digest, a status change, a shift, a code."""
    if notice.purpose is Purpose.PAGE:
        return page(notice.incidents[0], level=notice.level, base_url=notice.base_url)
    if notice.purpose is Purpose.DIGEST:
        count = len(notice.incidents)
        worst = wording.priority(wording.highest([i.severity for i in notice.incidents]))
        where = wording.services_phrase([i.service for i in notice.incidents])
        numbers = " ".join(f"#{i.number}" for i in notice.incidents[:20])
        text = gsm7(
            f"tocsin [{worst}] {wording.incidents_phrase(count)} on {where}: {numbers}. "
            f"Reply 1234A to ack one. {notice.base_url}/incidents"
        )
        return fit(text, PART * MAX_SEGMENTS)
    if notice.purpose is Purpose.STATUS:
        only = notice.incidents[0]
        text = gsm7(f"tocsin #{only.number} {notice.event} by {notice.event_by}: {only.title}")
        return fit(text, SINGLE)
    if notice.purpose is Purpose.SHIFT:
        return fit(gsm7(f"tocsin: your on-call shift on {notice.schedule} starts now"), SINGLE)
    return f"Your tocsin code is {notice.verification_code}. It expires in 15 minutes."
