"""Import boundaries: pure rules stay pure, and the docs stay true."""

from __future__ import annotations

import ast
from pathlib import Path

from tocsin.cli.config_docs import markdown

SRC = Path(__file__).resolve().parents[2] / "src" / "tocsin"
FORBIDDEN_FOR_DOMAIN = (
    "tocsin.db",
    "tocsin.api",
    "tocsin.web",
    "tocsin.cli",
    "tocsin.actions",
    "tocsin.engine",
    "tocsin.notify",
    "sqlalchemy",
    "fastapi",
    "httpx",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_imports_no_io_layer() -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(
            name for name in imports_of(path) if name.startswith(FORBIDDEN_FOR_DOMAIN)
        )
        for path in (SRC / "domain").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_function_local_imports_outside_the_embedded_database() -> None:
    # Both for memory, not to dodge a cycle: pgserver, and the vendor SDKs of channels
    # (imported by a channel's package.py only when the settings configure the channel).
    allowed = {
        "db/embedded.py",
        "notify/channels/slack/package.py",
        "notify/channels/push/package.py",
        "notify/channels/sms/package.py",
        "notify/channels/teams/package.py",
        "notify/channels/voice/package.py",
    }
    offenders = []
    for path in SRC.rglob("*.py"):
        relative = str(path.relative_to(SRC))
        if relative in allowed or "migrations" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                offenders += [
                    f"{relative}:{inner.lineno}"
                    for inner in ast.walk(node)
                    if isinstance(inner, (ast.Import, ast.ImportFrom))
                ]
    assert offenders == []


def test_configuration_reference_is_generated_from_settings() -> None:
    documented = (SRC.parents[1] / "docs" / "configuration.md").read_text()
    assert documented == markdown(), "run: tocsin config docs > docs/configuration.md"
