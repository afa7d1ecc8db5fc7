"""``tocsin config docs``: the configuration reference, generated from ``Settings``."""

from __future__ import annotations

import typer
from pydantic_core import PydanticUndefined

from tocsin.config import Settings

app = typer.Typer(help="Configuration.", no_args_is_help=True)

HEADER = """\
# Configuration

Every setting of tocsin comes from an environment variable. This page is generated from
`tocsin/config.py` by `tocsin config docs > docs/configuration.md`; a test fails when the two
disagree.

| Variable | Default | Meaning |
|---|---|---|
"""

FOOTER = """
Tests read one more variable, outside `Settings`: `TOCSIN_TEST_DATABASE_URL` points the test
suite at a PostgreSQL server (it creates and drops its own databases there); when unset, the
tests start an embedded PostgreSQL.
"""


def markdown() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "(see meaning)"
        elif field.default is None or field.default is PydanticUndefined:
            default = "unset"
        else:
            shown = str(field.default).lower() if isinstance(field.default, bool) else field.default
            default = f"`{shown}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `TOCSIN_{name.upper()}` | {default} | {description} |")
    return HEADER + "\n".join(rows) + "\n" + FOOTER


@app.command("docs")
def docs() -> None:
    """Print docs/configuration.md."""
    print(markdown(), end="")
