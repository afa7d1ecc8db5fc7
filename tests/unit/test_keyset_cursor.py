from __future__ import annotations

import pytest

from tocsin.db.keyset import decode_cursor, encode_cursor
from tocsin.errors import InvalidInput


def test_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor(["a", 7]), 2) == ["a", "7"]


@pytest.mark.parametrize("cursor", ["!!!", "bm90IGpzb24", encode_cursor(["only one"]), "W10"])
def test_foreign_cursors_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput) as error:
        decode_cursor(cursor, 2)
    assert error.value.field == "cursor"
