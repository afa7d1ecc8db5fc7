"""Writing a mail as bytes, for the one shape tocsin sends.

Every mail tocsin sends is ``multipart/alternative``: a UTF-8 plain-text part and a UTF-8
HTML part, each base64-encoded, under a fixed set of headers. The standard library's
``EmailMessage`` builds the same thing through its header registry and folding policy at
about 8 ms of CPU per mail on a 2-core machine (``aiosmtplib`` then flattens it once more),
which made it the largest single cost of sending a page; writing the known shape directly
costs a few hundredths of that (docs/benchmarks.md). The result is parsed back with the
standard library's parser by every notification test.

Only the subject is free text (titles come from monitoring tools), so only it is encoded
(RFC 2047) and folded. Every other value is an address or an id tocsin made; control
characters are removed from all of them, so that no value can end its header line and
start another.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# RFC 5322 recommends lines of at most 78 characters; encoded subjects are folded to it.
_LINE = 78
_WORD_BYTES = 42


def clean(value: str) -> str:
    """A header value on one line: control characters (CR, LF above all) become spaces."""
    return _CONTROL.sub(" ", value).strip()


def subject_header(subject: str) -> str:
    """``Subject`` folded to 78 characters, RFC 2047-encoded when it is not ASCII."""
    value = clean(subject)
    if value.isascii():
        return _folded(value)
    return _encoded_words(value)


def _folded(value: str) -> str:
    """ASCII folded at spaces so that lines stay within 78 characters where a word
    allows (``Subject: `` counts on the first); a longer word stays whole (lines may be
    998 characters)."""
    words = value.split(" ")
    lines: list[str] = []
    line = words[0]
    room = _LINE - len("Subject: ")
    for word in words[1:]:
        # Never break before an empty word (two spaces): a folded line of blanks only is
        # not allowed, and the space would be lost.
        if word and len(line) + 1 + len(word) > room:
            lines.append(line)
            line, room = word, _LINE - 1
        else:
            line = f"{line} {word}"
    lines.append(line)
    return "\r\n ".join(lines)


def _encoded_words(value: str) -> str:
    """RFC 2047 base64 words of at most 42 UTF-8 bytes (68 characters each), never
    splitting a character, one per folded line. ``email.header.Header`` does the same
    at about a millisecond per subject; this is a loop over the characters."""
    words: list[str] = []
    chunk = bytearray()
    for char in value:
        encoded = char.encode()
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(_word(chunk))
            chunk = bytearray()
        chunk += encoded
    words.append(_word(chunk))
    return "\r\n ".join(words)


def _word(chunk: bytes | bytearray) -> str:
    return f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?="


def multipart_alternative(
    headers: Sequence[tuple[str, str]], *, subject: str, text: str, html: str, boundary: str
) -> bytes:
    """The whole message, CRLF line ends. ``headers`` are written in order, cleaned; the
    boundary cannot occur in a base64 body, whose lines never start with ``--``."""
    lines = [f"{name}: {clean(value)}" for name, value in headers]
    lines += [
        f"Subject: {subject_header(subject)}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
    ]
    for subtype, body in (("plain", text), ("html", html)):
        lines += [
            f"--{boundary}",
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
            _base64(body),
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("utf-8")


def _base64(body: str) -> str:
    encoded = base64.encodebytes(body.encode()).decode("ascii").rstrip("\n")
    return encoded.replace("\n", "\r\n")
