"""verify-package against hostile packages: whatever is changed, and however the forger
then makes the bag's manifests fit, the check ends with a report (never an exception or a
hang) and the report is never INTACT."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import bagit
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_samples
from svidok.cases.access import Actor
from svidok.cases.service import open_casework
from svidok.demo import run_demo
from svidok.export import verify_package as vp
from svidok.export.package import Selection, export_case
from svidok.home import Home

OP = Actor.operator("tester")

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("hostile")
    Home.init(base / "home", origin="svidok.test/hostile", actor="tester")
    with Home.open(base / "home") as home:
        run_demo(home, OP, write_samples(base / "samples"))
        export_case(home, open_casework(home), OP, "demo", Selection(query="bucha"),
                    base / "bag", recipient="court", purpose="trial")
    vkey = (base / "home" / "keys" / "ledger.pub").read_text().strip()
    assert vp.verify(base / "bag", vkey).ok
    json_files = sorted(str(p.relative_to(base / "bag")) for p in (base / "bag").rglob("*.json"))
    return {"bag": base / "bag", "vkey": vkey, "json": json_files, "base": base}


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc[path[0]] = _set(doc[path[0]], path[1:], value)
    return doc


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 10_000), where=st.integers(0, 10_000), value=_json)
def test_any_edit_of_any_json_file_is_caught(package: dict[str, Any], tmp_path: Path,
                                            which: int, where: int, value: Any) -> None:
    name = package["json"][which % len(package["json"])]
    doc = json.loads((package["bag"] / name).read_text())
    paths = _paths(doc)
    path = paths[where % len(paths)]
    changed = _set(json.loads(json.dumps(doc)), path, value)
    if changed == doc:
        return
    work = tmp_path / f"bag-{random.randrange(1 << 30)}"
    shutil.copytree(package["bag"], work)
    (work / name).write_text(json.dumps(changed, ensure_ascii=False))
    bagit.Bag(str(work)).save(manifests=True)  # the forger makes the manifests fit
    report = vp.verify(work, package["vkey"])
    shutil.rmtree(work)
    assert not report.ok, (name, path, value)


@pytest.mark.parametrize("damage", ["truncate", "nest", "empty", "binary", "huge_line"])
def test_broken_files_end_in_a_report(package: dict[str, Any], tmp_path: Path,
                                      damage: str) -> None:
    for name in [*package["json"], "data/ledger/entries.jsonl",
                 "data/checkpoint/checkpoint.txt", "bagit.txt", "manifest-sha256.txt"]:
        work = tmp_path / f"{damage}-{abs(hash(name))}"
        shutil.copytree(package["bag"], work)
        target = work / name
        raw = target.read_bytes()
        target.write_bytes({
            "truncate": raw[: len(raw) // 2],
            "nest": b"[" * 100_000 + b"]" * 100_000,
            "empty": b"",
            "binary": os.urandom(300),
            "huge_line": b"x" * (3 << 20),
        }[damage])
        report = vp.verify(work, package["vkey"])
        assert not report.ok, (damage, name)
        shutil.rmtree(work)


def test_special_files_and_links_are_refused_without_blocking(package: dict[str, Any],
                                                              tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "neither a folder nor a zip" in vp.verify(fifo).problems[0]  # never opened
    work = tmp_path / "linked"
    shutil.copytree(package["bag"], work)
    victim = next((work / "data" / "originals").iterdir())
    victim.unlink()
    victim.symlink_to("/etc/hostname")
    report = vp.verify(work, package["vkey"])
    assert any("symbolic link" in p for p in report.problems)
