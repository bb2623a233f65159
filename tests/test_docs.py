"""Docs that are checked: the README's two commands, every setting and command documented."""

import re
from pathlib import Path

import click

from cityhub.cli import main
from cityhub.settings import Settings

ROOT = Path(__file__).parent.parent


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None
    assert readme.index(block.group(0)) < readme.index("## ")
    commands = block.group(1).strip().splitlines()
    assert len(commands) == 2
    assert "cityhub serve --demo" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in text, name
        assert f"`CITYHUB_{name.upper()}`" in text, name


def _commands(group: click.Group, prefix: str = "cityhub") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_command_is_documented():
    text = (ROOT / "docs" / "cli.md").read_text()
    for command in _commands(main):
        assert f"`{command}" in text, command
