"""docs/threat-model.md kept honest: it names the four adversaries of issue #3, and every
command, file and Python name it cites in backticks exists.

* ``svidok ...``: a command (sub-commands included) registered in ``svidok.cli.app``, and
  every ``--option`` given with it is an option of that command;
* a bare ``--option``: an option of some command;
* a path (it has a ``/`` or a file extension): a file or folder of the repository, or one in
  a data home made by ``svidok init`` and then used by a casework command (``svidok user
  add`` creates ``keys/fields.key`` and ``auth.sqlite``); ``*`` is a wildcard;
* ``svidok.module.Name``: importable;
* ``a.b``: a ledger entry type (``member.grant``) or a setting (``intake.extract_timeout``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from svidok.cli import app
from svidok.config import ENV_CATALOG_URL, Config
from svidok.home import Home
from svidok.ledger.entries import ENTRY_TYPES

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "threat-model.md"
ADVERSARIES = ("hostile state", "insider", "defence expert", "leak")
FILE_EXTENSIONS = ("md", "py", "key", "pub", "toml", "sqlite", "jsonl", "json", "note", "txt")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"`([^`\n]+)`")
_PATHLIKE = re.compile(rf"[\w.*-]+\.(?:{'|'.join(FILE_EXTENSIONS)})")
_PYTHON = re.compile(r"svidok(?:\.[A-Za-z_]\w*)+")


def _text() -> str:
    assert DOC.is_file(), "docs/threat-model.md is missing"
    return DOC.read_text(encoding="utf-8")


def _spans(text: str) -> list[str]:
    """Inline code spans outside fenced blocks, plus ``svidok`` lines inside them."""
    spans = _SPAN.findall(_FENCE.sub("", text))
    for block in _FENCE.findall(text):
        spans += [line.strip() for line in block.splitlines() if line.startswith("svidok ")]
    return spans


def _is_path(span: str) -> bool:
    if any(c.isspace() for c in span) or span.startswith("-") or "://" in span:
        return False
    if "<" in span or "(" in span or "=" in span:
        return False
    return "/" in span or _PATHLIKE.fullmatch(span) is not None


def _options(cmd: Any) -> set[str]:
    return {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}


def _takes_value(cmd: Any, option: str) -> bool:
    for p in cmd.params:
        if option in p.opts:
            return not getattr(p, "is_flag", False) and not getattr(p, "count", False)
    return False


def _walk(group: Any) -> Iterator[Any]:
    """Every command under a group (typer's own click: groups are told by ``commands``)."""
    for cmd in group.commands.values():
        yield cmd
        if hasattr(cmd, "commands"):
            yield from _walk(cmd)


def _command_problem(span: str) -> str | None:
    """Why ``svidok ...`` is not a registered command with those options, or None."""
    root = get_command(app)
    cmd: Any = root
    options = _options(root)  # --home and --version may come before the command
    path = ["svidok"]
    value_next = False
    for token in span.split()[1:]:
        if value_next:  # the value of the option before it
            value_next = False
        elif token.startswith("-"):
            name = token.split("=", 1)[0]
            if name not in options | {"--help"}:
                return f"{' '.join(path)} has no option {name}"
            value_next = "=" not in token and _takes_value(cmd, name)
        elif hasattr(cmd, "commands"):
            sub = cmd.commands.get(token)
            if sub is None:
                return f"{' '.join(path)} has no command {token!r}"
            cmd = sub
            path.append(token)
            options = _options(cmd)
        # else: an argument or an option's value of a command that has no sub-commands
    return None


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data home as `svidok init` leaves it, then after a first casework command."""
    path = tmp_path_factory.mktemp("threat-model") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(ENV_CATALOG_URL, raising=False)  # the default: catalog.sqlite in the home
        Home.init(path, origin="svidok.test/threat-model", actor="tester")
        added = CliRunner().invoke(
            app,
            ["user", "add", "olena", "--password-stdin", "--home", str(path)],
            input="correct horse battery staple\n",
        )
    assert added.exit_code == 0, added.output
    yield path


def test_the_document_exists_and_names_the_four_adversaries() -> None:
    headings = [line.lower() for line in _text().splitlines() if line.startswith("#")]
    for adversary in ADVERSARIES:
        assert any(adversary in h for h in headings), f"no heading names {adversary!r}"


def test_says_what_is_not_built() -> None:
    text = _text()
    assert "**not built**" in text.lower()
    assert "issue #5" in text  # trusted timestamps


def test_every_command_cited_is_registered() -> None:
    commands = [s for s in _spans(_text()) if s.split()[0] == "svidok" and " " in s]
    assert len(commands) >= 10, commands
    problems = [p for s in commands if (p := _command_problem(s)) is not None]
    assert not problems, problems


def test_every_bare_option_cited_exists() -> None:
    every = set().union(*(_options(c) for c in _walk(get_command(app))))
    bare = [s for s in _spans(_text()) if re.fullmatch(r"--[a-z][a-z-]*", s)]
    missing = [s for s in bare if s not in every]
    assert not missing, missing


def test_every_path_cited_exists(home: Path) -> None:
    paths = [s for s in _spans(_text()) if _is_path(s)]
    for needed in ("keys/ledger.key", "keys/fields.key", "examples/independent_verify.py"):
        assert needed in paths, f"{needed} is not cited"
    missing = []
    for span in sorted(set(paths)):
        pattern = span.rstrip("/")
        found = [m for base in (ROOT, home) for m in base.glob(pattern)]
        if not found or (span.endswith("/") and not any(m.is_dir() for m in found)):
            missing.append(span)
    assert not missing, f"cited but neither in the repository nor in a data home: {missing}"


def test_every_python_name_cited_exists() -> None:
    names = [s for s in _spans(_text()) if _PYTHON.fullmatch(s) and not _is_path(s)]
    assert names
    missing = []
    for name in names:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj: object = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert not missing, missing


def test_every_entry_type_cited_exists() -> None:
    dotted = [
        s
        for s in _spans(_text())
        if re.fullmatch(r"[a-z_]+\.[a-z_]+", s) and not _is_path(s) and not _PYTHON.fullmatch(s)
    ]
    assert dotted
    unknown = [s for s in dotted if s not in ENTRY_TYPES and s not in _settings()]
    assert not unknown, f"neither a ledger entry type nor a setting: {unknown}"


def _settings() -> set[str]:
    """Every ``section.key`` of svidok.toml (as tests/test_docs.py finds them)."""
    keys, section = set(), ""
    for line in Config.new().to_toml().splitlines():
        if m := re.match(r"^\[(\w+)\]$", line):
            section = m.group(1)
        elif m := re.match(r"^(\w+) = ", line):
            keys.add(f"{section}.{m.group(1)}")
    return keys
