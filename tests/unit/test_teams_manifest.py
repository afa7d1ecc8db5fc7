"""``tocsin teams manifest`` writes the app package Teams takes: a zip of manifest.json
naming the bot and this tocsin's host, and the two icons in the sizes Teams requires."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tocsin.cli import app

APP_ID = "00000000-0000-4000-8000-00000000a991"


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_package_names_the_bot_and_carries_both_icons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("TOCSIN_PUBLIC_URL", "https://oncall.example.com")
    monkeypatch.setenv("TOCSIN_DATA_DIR", str(tmp_path / "data"))
    output = tmp_path / "tocsin-teams.zip"
    result = CliRunner().invoke(app, ["teams", "manifest", "--output", str(output)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert _size(archive.read("color.png")) == (192, 192)
        assert _size(archive.read("outline.png")) == (32, 32)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["bots"][0]["scopes"] == ["personal"]
    assert manifest["validDomains"] == ["oncall.example.com"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_without_an_app_id_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOCSIN_TEAMS_APP_ID", raising=False)
    monkeypatch.setenv("TOCSIN_DATA_DIR", str(tmp_path / "data"))
    output = tmp_path / "tocsin-teams.zip"
    result = CliRunner().invoke(app, ["teams", "manifest", "--output", str(output)])
    assert result.exit_code == 2
    assert not output.exists()
