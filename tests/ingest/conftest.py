"""The ``--update-golden`` option: rewrite the golden files instead of comparing with them.

Run ``pytest tests/ingest --update-golden``, then review the diff of ``tests/ingest/golden``
like any other change: a golden is the reviewed statement of what a format produces.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/ingest/golden/ from the current output of every format",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
