"""The one JSON reader of every intake body: bounded, and storable by construction.

Every format reads its body through ``load_json``; a body it refuses raises
``MalformedPayload`` naming the field as a path (``alerts[0].labels.value``), which each
route answers in its protocol's own error shape (400). What it enforces:

* **Nesting at most ``MAX_DEPTH`` levels** (the body itself is level 1). Real senders
  nest a handful of levels; Python's parser recurses per level and fails with a
  ``RecursionError`` somewhere near a thousand. Deeper than that, the path is found by a
  scan that never recurses (``_too_deep``).
* **Numbers of at most ``MAX_NUMBER_CHARS`` characters, finite.** Python refuses to
  convert integers of over 4,300 digits (a ``ValueError`` from deep inside the parser),
  ``1e999`` parses as infinity and ``NaN``/``Infinity`` are accepted by Python though not
  JSON; PostgreSQL's jsonb takes none of them. A number of hundreds of digits is junk.
* **Text that PostgreSQL can store** (``domain/storable.py``): NUL and lone surrogates in any
  string or key are replaced with U+FFFD, and bytes that are not UTF-8 are decoded as
  U+FFFD, each. Control characters are kept, even raw inside a string (not strictly
  JSON, but sent by templates that paste text in): an alert is not refused for them.

Checking costs a walk over the parsed value only when the text could hold something to
fix: more brackets than the depth limit, a ``\\u`` escape, a NUL, or a refused number.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from tocsin.domain.storable import storable
from tocsin.ingest.errors import MalformedPayload

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100

# One step of a path into the body: a key, an index, or nothing for the body itself.
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class _Refused:
    """Stands in the parsed value where a number was refused, so the walk can name it."""

    reason: str


def load_json(body: bytes) -> Any:
    """The parsed body, bounded and storable; ``MalformedPayload`` naming the field if not."""
    text = body.decode(json.detect_encoding(body), errors="replace")
    refused: list[_Refused] = []

    def refuse(reason: str) -> _Refused:
        mark = _Refused(reason)
        refused.append(mark)
        return mark

    def integer(digits: str) -> int | _Refused:
        if len(digits) > MAX_NUMBER_CHARS:
            return refuse(f"a number longer than {MAX_NUMBER_CHARS} characters")
        return int(digits)

    def real(digits: str) -> float | _Refused:
        if len(digits) > MAX_NUMBER_CHARS:
            return refuse(f"a number longer than {MAX_NUMBER_CHARS} characters")
        value = float(digits)
        return value if math.isfinite(value) else refuse("a number out of range")

    def constant(name: str) -> _Refused:
        return refuse(f"{name} is not a JSON number")

    decoder = json.JSONDecoder(
        parse_int=integer, parse_float=real, parse_constant=constant, strict=False
    )
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as error:
        raise MalformedPayload("body", f"the body is not valid JSON: {error}") from error
    except RecursionError as error:
        raise _nested_too_deep(_too_deep(text)) from error
    if refused or "\\u" in text or "\x00" in text or _brackets(text) > MAX_DEPTH:
        return _checked(value, (), 0)
    return value


def _brackets(text: str) -> int:
    """How many arrays and objects the text could open at most (strings count too)."""
    return text.count("[") + text.count("{")


def _checked(value: Any, path: Path, depth: int) -> Any:
    """``value`` with its text made storable; raises at the first refused number or at a
    container deeper than ``MAX_DEPTH``. ``depth`` counts the containers around ``value``;
    recursion stops at the limit, so it never goes deeper than ``MAX_DEPTH`` frames."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, _Refused):
        where = field_of(path)
        raise MalformedPayload(where, f"{where}: {value.reason}")
    if isinstance(value, dict | list) and depth == MAX_DEPTH:
        raise _nested_too_deep(path)
    if isinstance(value, dict):
        return {
            storable(key): _checked(item, (*path, key), depth + 1) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_checked(item, (*path, index), depth + 1) for index, item in enumerate(value)]
    return value


def _nested_too_deep(path: Path) -> MalformedPayload:
    where = field_of(path)
    return MalformedPayload(where, f"{where}: nested deeper than {MAX_DEPTH} levels")


def field_of(path: Path) -> str:
    """``("alerts", 0, "labels")`` → ``alerts[0].labels``; the empty path is ``body``."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{storable(step)}" if text else storable(step)
    return text or "body"


_LEXEME = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


def _too_deep(text: str) -> Path:
    """The path of the first container nested deeper than ``MAX_DEPTH`` in ``text``.

    Only called for text that the parser gave up on, nested far beyond the limit: a
    linear scan of strings and punctuation that keeps one frame per open container (its
    current key or index) and stops at the limit, so it needs neither recursion nor a
    parsed value.
    """
    frames: list[list[Any]] = []  # [kind, key or index] per open container
    last_string: str | None = None
    for match in _LEXEME.finditer(text):
        lexeme = match.group()
        if lexeme.startswith('"'):
            last_string = lexeme
        elif lexeme in "[{":
            if len(frames) == MAX_DEPTH:
                break
            frames.append([lexeme, 0 if lexeme == "[" else ""])
        elif lexeme in "]}":
            if frames:
                frames.pop()
        elif lexeme == ":" and frames and last_string is not None:
            frames[-1][1] = json.loads(last_string, strict=False)
        elif lexeme == "," and frames and frames[-1][0] == "[":
            frames[-1][1] += 1
    return tuple(step for _, step in frames)
