"""Text as PostgreSQL can store it: without NUL and without lone surrogates.

PostgreSQL refuses NUL in ``text`` (and ``\\u0000`` in ``jsonb``), and a lone UTF-16
surrogate (``"\\ud800"``, which Python's json module decodes without complaint) cannot even
be encoded as UTF-8 to be sent. Monitoring tools do send both: a NUL from a C string, half
a surrogate pair from a title cut at a byte limit. Refusing such a request would lose the
page, so tocsin stores the text with each such character replaced by U+FFFD, the
replacement character, which shows the reader that something was there.

In a Python ``str`` a surrogate code point is always a lone one (a pair decodes to the one
character it encodes), so every code point from U+D800 to U+DFFF is replaced.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD (the same object if none)."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(REPLACEMENT, text)
