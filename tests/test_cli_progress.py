"""The long background-work commands (previews, duplicates hash, search-index) show a
progress bar on a terminal, fed by the Python API's ``progress(done, total)`` callback, and
none when output is for machines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from conftest import run_ingest
from svidok import cli
from svidok.cli_casework import _counting
from svidok.home import Home


def test_counting_gives_a_callback_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_show_progress", lambda: True)
    with _counting("work", as_json=False) as progress:
        assert progress is not None
        progress(1, 3)
        progress(3, 3)
    with _counting("work", as_json=True) as progress:
        assert progress is None
    monkeypatch.setattr(cli, "_show_progress", lambda: False)
    with _counting("work", as_json=False) as progress:
        assert progress is None


@pytest.mark.parametrize("command", [["previews"], ["duplicates", "hash"], ["search-index"]])
def test_commands_report_progress_on_a_terminal(
    home_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    buf = io.BytesIO()
    Image.effect_mandelbrot((320, 240), (-2, -1.2, 1, 1.2), 60).convert("RGB").save(buf, "JPEG")
    (folder / "p.jpg").write_bytes(buf.getvalue())
    (folder / "t.txt").write_text("Свідок бачив колону в Бучі.", encoding="utf-8")
    with Home.open(home_path) as home:
        run_ingest(home, folder)
    calls: list[tuple[int, int]] = []
    real = _counting.__wrapped__  # type: ignore[attr-defined]

    def spy(label: str, as_json: bool):  # type: ignore[no-untyped-def]
        gen = real(label, as_json)
        progress = next(gen)
        assert progress is not None, label
        yield lambda done, total: (calls.append((done, total)), progress(done, total))
        gen.close()

    import contextlib

    monkeypatch.setattr(cli, "_show_progress", lambda: True)
    for module in ("svidok.cli_previews", "svidok.cli_duplicates", "svidok.cli_search"):
        monkeypatch.setattr(f"{module}._counting", contextlib.contextmanager(spy))
    done = CliRunner().invoke(cli.app, [*command, "--home", str(home_path)])
    assert done.exit_code == 0, done.output
    assert calls and calls[-1][0] == calls[-1][1] >= 1, calls
