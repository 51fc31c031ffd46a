"""Docs checked against code: settings documented, public names exported, CLI reference true."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

import precursorwatch
from precursorwatch.cli import app
from precursorwatch.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert re.search(rf"^\| {name} \|", README, re.MULTILINE), f"setting {name} undocumented"


def test_public_api_is_sorted_and_importable() -> None:
    names = precursorwatch.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(precursorwatch, name), name


def test_readme_commands_exist() -> None:
    runner = CliRunner()
    for command in sorted(
        set(re.findall(r"^precursorwatch ([a-z]+(?: [a-z]+)?)", README, re.MULTILINE))
    ):
        words = [w for w in command.split() if not w.startswith("-")]
        result = runner.invoke(app, [*words[:2], "--help"])
        if result.exit_code != 0:  # a positional argument after the command name
            result = runner.invoke(app, [words[0], "--help"])
        assert result.exit_code == 0, f"README names `precursorwatch {command}`"
