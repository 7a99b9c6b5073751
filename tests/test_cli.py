"""The command line: exit statuses, JSON output, receipts, and no stack trace on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import random_bytes, sha256, write

CLI = [sys.executable, "-m", "svidok"]


def run(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [*CLI, *(["--home", str(home)] if home else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cli")
    home = base / "home"
    created = run("init", "--origin", "svidok.test/cli", "--json", home=home)
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)
    assert info["origin"] == "svidok.test/cli" and info["public_key"].startswith("svidok.test/cli+")
    assert oct((home / "keys" / "ledger.key").stat().st_mode & 0o777) == "0o600"
    src = base / "evidence"
    write(src / "photo.bin", random_bytes(5, 10_000))
    write(src / "note.txt", b"statement\n")
    result = run("ingest", str(src), "--case", "c1", "--collector", "Olena", "--json", home=home)
    assert result.returncode == 0, result.stderr
    return home, src


def test_init_refuses_existing_home(filled: tuple[Path, Path]) -> None:
    home, _ = filled
    result = run("init", home=home)
    assert result.returncode == 2 and "already exists" in result.stderr
    assert_no_traceback(result)


def test_command_level_home_option(filled: tuple[Path, Path]) -> None:
    home, _ = filled
    result = subprocess.run(
        [*CLI, "checkpoint", "--home", str(home)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("svidok.test/cli\n")


def test_ingest_json_and_exit_status(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, src = filled
    again = run("ingest", str(src), "--case", "c1", "--collector", "Olena", "--json", home=home)
    data = json.loads(again.stdout)
    assert again.returncode == 0 and data["summary"]["already-preserved"] == 2
    missing = run(
        "ingest", str(tmp_path / "nope"), "--case", "c1", "--collector", "Olena", home=home
    )
    assert missing.returncode == 1
    assert_no_traceback(missing)
    usage = run("ingest", str(src), home=home)  # --case and --collector are required
    assert usage.returncode == 2
    assert_no_traceback(usage)


def test_verify_exit_codes(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = filled
    ok = run("verify", "--json", home=home)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    nothing = run("verify", home=tmp_path / "no-home")
    assert nothing.returncode == 2 and "no Svidok data home" in nothing.stderr
    assert_no_traceback(nothing)


def test_receipt_roundtrip_and_tampering(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, src = filled
    digest = sha256((src / "photo.bin").read_bytes())
    receipt = tmp_path / "photo.receipt"
    made = run("receipt", f"sha256:{digest}", "--output", str(receipt), home=home)
    assert made.returncode == 0, made.stderr
    assert receipt.read_text().startswith("c2sp.org/tlog-proof@v1\n")
    pub = home / "keys" / "ledger.pub"
    good = run("verify-receipt", str(receipt), "--key", str(pub), "--file", str(src / "photo.bin"))
    assert good.returncode == 0 and "RECEIPT VALID" in good.stdout, good.stdout + good.stderr
    wrong_file = run(
        "verify-receipt", str(receipt), "--key", str(pub), "--file", str(src / "note.txt")
    )
    assert wrong_file.returncode == 1
    text = receipt.read_text()
    lines = text.split("\n")
    lines[2] = "index 0"  # claim another position
    forged = tmp_path / "forged.receipt"
    forged.write_text("\n".join(lines))
    bad = run("verify-receipt", str(forged), "--key", str(pub))
    assert bad.returncode == 1 and "INVALID" in bad.stdout
    by_entry = run("receipt", "0", home=home)
    assert by_entry.returncode == 0 and by_entry.stdout.startswith("c2sp.org/tlog-proof@v1")
    for target in ("sha256:" + "0" * 64, "nonsense", "999999"):
        result = run("receipt", target, home=home)
        assert result.returncode == 2, target
        assert_no_traceback(result)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\xff\x00" * 100)
    for args in (
        ["verify-receipt", str(garbage), "--key", str(pub)],
        ["verify-receipt", str(receipt), "--key", "not-a-key"],
        ["verify-receipt", str(tmp_path / "absent"), "--key", str(pub)],
    ):
        result = run(*args)
        assert result.returncode in (1, 2), args
        assert_no_traceback(result)


def test_verify_against_published_checkpoint(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = filled
    published = tmp_path / "published.note"
    assert run("checkpoint", "--output", str(published), home=home).returncode == 0
    result = run("verify", "--against", str(published), "--no-record", home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    other_key = tmp_path / "other.pub"
    other_key.write_text("svidok.test/cli+00000000+AQ" + "A" * 42 + "\n")
    result = run("verify", "--key", str(other_key), "--no-record", home=home)
    assert result.returncode in (1, 2)
    assert_no_traceback(result)


def test_markup_and_control_characters_in_names_are_shown_literally(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    src = tmp_path / "src"
    write(src / "[bold red]alert[/] [/]x", b"a")
    write(src / "esc\x1b[2Jclear", b"b")
    result = run("ingest", str(src), "--case", "c", "--collector", "x", home=home)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    as_json = run("ingest", str(src), "--case", "c", "--collector", "x", "--json", home=home)
    shown = [f["display"] for f in json.loads(as_json.stdout)["files"]]
    assert any(s.endswith("[bold red]alert[/] [/]x") for s in shown)
    assert any(s.endswith("esc\\x1b[2Jclear") for s in shown)
    assert "\x1b[2J" not in result.stdout and "\\x1b" in result.stdout


def test_output_to_a_reader_that_stops_early(filled: tuple[Path, Path]) -> None:
    """Output is flushed before the command ends (it ends without the interpreter's
    teardown), and a reader that closes the pipe early gets no stack trace."""
    home, src = filled
    full = run("ingest", str(src), "--case", "c1", "--collector", "Olena", "--json", home=home)
    assert json.loads(full.stdout)["summary"]["already-preserved"] == 2
    cmd = [*CLI, "--home", str(home), "ingest", str(src), "--case", "c1", "--collector", "O"]
    proc = subprocess.Popen(
        [*cmd, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1) == "{"
    proc.stdout.close()
    assert proc.wait(timeout=300) in (0, 1, 120)
    assert "Traceback" not in proc.stderr.read()
