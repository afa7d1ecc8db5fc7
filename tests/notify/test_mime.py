"""The hand-written MIME of ``notify.mime`` read back by the standard library's parser:
whatever a monitoring tool puts in a title or a description comes out as it went in,
folded and encoded as RFC 5322 and RFC 2047 want, and never as a header of its own."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from tocsin.notify.channels.email import mime

HEADERS = [
    ("From", "tocsin <tocsin@tocsin.example>"),
    ("To", "alice@example.com"),
    ("Message-ID", "<incident.1.2@tocsin.example>"),
]


def _parsed(subject: str, text: str = "text", html: str = "<p>html</p>") -> EmailMessage:
    raw = mime.multipart_alternative(
        HEADERS, subject=subject, text=text, html=html, boundary="=_tocsin_test"
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@given(st.text(max_size=300))
def test_any_subject_reads_back_as_written_on_lines_of_at_most_78(subject: str) -> None:
    message = _parsed(subject)
    assert str(message["Subject"]) == mime.clean(subject)
    header = "Subject: " + mime.subject_header(subject)
    for number, line in enumerate(header.split("\r\n")):
        # A single word longer than a line is kept whole (RFC 5322 allows 998).
        assert len(line) <= 78 or " " not in line.strip(), line
        if number:
            assert line.startswith(" ")
            assert line.strip(), "a folded line is never blank"


@given(st.text(max_size=2000), st.text(max_size=2000))
def test_both_parts_read_back_exactly(text: str, html: str) -> None:
    message = _parsed("subject", text, html)
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    # Base64 keeps every character, line ends included (a quoted-printable body would
    # have its line ends rewritten on the way).
    assert plain.get_content() == text
    assert rich.get_content() == html


def test_a_line_break_in_a_value_cannot_start_a_header() -> None:
    message = _parsed("Disk full\r\nBcc: mallory@example.com\nX-Evil: 1")
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert str(message["Subject"]) == "Disk full Bcc: mallory@example.com X-Evil: 1"
    raw = mime.multipart_alternative(
        [("To", "alice@example.com\r\nBcc: mallory@example.com")],
        subject="x",
        text="",
        html="",
        boundary="b",
    )
    assert b"\r\nBcc:" not in raw


def test_the_headers_are_written_in_order_before_the_mime_ones() -> None:
    message = _parsed("Disk full")
    assert message.keys()[:5] == ["From", "To", "Message-ID", "Subject", "MIME-Version"]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
