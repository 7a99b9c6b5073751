"""Docs kept true: every setting, command and option is documented."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from svidok.cli import app
from svidok.config import Config

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    toml = Config.new().to_toml()
    section = ""
    keys = []
    for line in toml.splitlines():
        if m := re.match(r"^\[(\w+)\]$", line):
            section = m.group(1)
        elif m := re.match(r"^(\w+) = ", line):
            keys.append(f"{section}.{m.group(1)}")
    assert keys
    for key in keys:
        assert f"`{key}`" in doc, f"{key} is not in docs/configuration.md"


def test_every_command_and_option_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    group = get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"init", "ingest", "verify", "checkpoint", "receipt", "verify-receipt"} <= set(commands)
    for name, cmd in commands.items():
        assert f"`svidok {name}" in readme, f"svidok {name} is not in README.md"
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in ("--help", "--home", "--json"):
                    assert opt in readme, f"{opt} of svidok {name} is not in README.md"
