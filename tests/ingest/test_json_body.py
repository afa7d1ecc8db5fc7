"""The one JSON reader of intake bodies: what it refuses (naming the field), and what it
keeps with PostgreSQL's unstorable characters replaced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.ingest.errors import MalformedPayload
from tocsin.ingest.json_body import MAX_DEPTH, MAX_NUMBER_CHARS, load_json


def refused(body: bytes | str) -> tuple[str, str]:
    with pytest.raises(MalformedPayload) as caught:
        load_json(body.encode() if isinstance(body, str) else body)
    return caught.value.field, caught.value.detail


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def test_nesting_up_to_the_limit_is_read() -> None:
    assert MAX_DEPTH == 64
    value = load_json(nested(MAX_DEPTH).encode())
    for _ in range(MAX_DEPTH):
        value = value[0]
    assert value == 1


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 900, 10_000, 200_000])
def test_nesting_past_the_limit_is_refused_at_the_first_container_too_deep(levels: int) -> None:
    field, detail = refused('{"alerts": [{"labels": {"x": ' + nested(levels - 3) + "}}]}")
    assert field == "alerts[0].labels.x" + "[0]" * 60
    assert detail == f"{field}: nested deeper than 64 levels"


def test_the_deep_scan_names_keys_and_indices_past_strings_that_look_like_json() -> None:
    decoy = json.dumps('[{"a": ["],\\"')
    body = f'{{"a": {decoy}, "b\\u0000": [1, {decoy}, {nested(10_000)}]}}'
    field, _ = refused(body)
    assert field == "b\ufffd[2]" + "[0]" * 62


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("9" * 5000, "a number longer than 100 characters"),
        ("-" + "1" * MAX_NUMBER_CHARS, "a number longer than 100 characters"),
        ("1." + "0" * 99, "a number longer than 100 characters"),
        ("1e999", "a number out of range"),
        ("-1e400", "a number out of range"),
        ("NaN", "NaN is not a JSON number"),
        ("Infinity", "Infinity is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
    ],
)
def test_a_number_too_long_or_out_of_range_is_refused_naming_it(number: str, reason: str) -> None:
    assert refused(f'{{"details": {{"values": [0, {number}]}}}}') == (
        "details.values[1]",
        f"details.values[1]: {reason}",
    )


def test_numbers_up_to_the_limit_are_read() -> None:
    assert MAX_NUMBER_CHARS == 100
    digits = "9" * MAX_NUMBER_CHARS
    assert load_json(f"[{digits}, 1e308, -0.5]".encode()) == [int(digits), 1e308, -0.5]


def test_a_refused_number_at_the_top_is_the_body() -> None:
    assert refused("NaN") == ("body", "body: NaN is not a JSON number")


def test_nul_and_lone_surrogates_become_the_replacement_character_in_keys_and_values() -> None:
    body = r'{"t\u0000": ["a\u0000b", "\ud800", "\udc00x", "pair \ud83d\ude00"]}'
    assert load_json(body.encode()) == {"t\ufffd": ["a\ufffdb", "\ufffd", "\ufffdx", "pair 😀"]}


def test_raw_nul_and_bytes_that_are_not_utf8_become_the_replacement_character() -> None:
    # ED A0 80 is a lone surrogate encoded as UTF-8; C3 alone is half a character.
    body = b'{"title": "a\x00b\xed\xa0\x80c\xc3"}'
    assert load_json(body) == {"title": "a\ufffdb\ufffd\ufffd\ufffdc\ufffd"}


def test_raw_control_characters_in_strings_are_kept_not_refused() -> None:
    assert load_json(b'{"description": "line 1\nline 2\ttab"}') == {
        "description": "line 1\nline 2\ttab"
    }


@pytest.mark.parametrize("body", [b"", b"{", b"[1,]", b"\xff\xfe", b'{"a": 1} x'])
def test_a_body_that_is_not_json_is_refused_as_the_body(body: bytes) -> None:
    field, detail = refused(body)
    assert field == "body"
    assert detail.startswith("the body is not valid JSON")


def test_a_byte_order_mark_is_allowed() -> None:
    assert load_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


STORABLE_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | STORABLE_TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(STORABLE_TEXT, inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=200, derandomize=True)
@given(value=PLAIN, ascii_only=st.booleans())
def test_any_json_within_the_limits_reads_back_unchanged(value: Any, ascii_only: bool) -> None:
    assert load_json(json.dumps(value, ensure_ascii=ascii_only).encode()) == value
