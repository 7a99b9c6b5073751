"""Imports against hostile input: whatever bytes a list of people holds, and whatever
names and sidecars a folder holds, an import ends in a report or a refusal that says where
and why (never an exception, a hang, or a half-made import)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svidok.cases.access import Actor
from svidok.cases.service import open_casework
from svidok.home import Home
from svidok.imports.common import ImportRefused
from svidok.imports.folder import FolderOptions, import_folder
from svidok.imports.people import PeopleOptions, import_people

OP = Actor.operator("tester")
_cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("hostile-imports")
    Home.init(base / "home", origin="svidok.test/imports", actor="tester")
    home = Home.open(base / "home")
    work = open_casework(home)
    work.create_case(OP, {"reference": "H-1", "title": "Hostile"})
    yield home, work, base
    home.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=400) | st.lists(st.lists(_cells, max_size=6), max_size=6).map(
    lambda rows: "\n".join(";".join(r) for r in [["name", "age", "sex"], *rows]).encode()))
def test_any_bytes_as_a_list_of_people(place, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    home, work, base = place
    path = base / "list.csv"
    path.write_bytes(raw)
    size = home.ledger.size
    try:
        report = import_people(work, OP, "H-1", path, PeopleOptions(mapping={}))
    except ImportRefused as exc:
        assert exc.problems and all(p.where and p.reason for p in exc.problems)
        assert home.ledger.size == size  # nothing half-imported
        return
    assert report.ok


def test_hostile_names_in_a_folder(place) -> None:  # type: ignore[no-untyped-def]
    home, work, base = place
    folder = base / "names"
    folder.mkdir()
    names = [b"line\nbreak.txt", b"bidi\xe2\x80\xaegpj.exe", b"not-utf8-\xff.txt",
             b"-rf --no-preserve-root", b" leading space.txt"]
    for i, name in enumerate(names):
        with open(os.path.join(os.fsencode(folder), name), "wb") as out:
            out.write(f"file {i}".encode())
    with open(os.path.join(os.fsencode(folder), b"bidi\xe2\x80\xaegpj.exe.json"), "w") as out:
        out.write('{"title": "A title \\u202e with an override"}')
    report = import_folder(home, work, OP, "H-1", folder, FolderOptions(collector="desk"))
    assert report.ok and len(report.created) == len(names)
    titles = [work.get(OP, work.find_case(OP, "H-1").id, r).fields["title"]
              for r in report.created]
    assert all("\n" not in t for t in titles)  # names shown escaped, never raw controls
    again = import_folder(home, work, OP, "H-1", folder, FolderOptions(collector="desk"))
    assert not again.created


def test_a_sidecar_that_is_a_fifo_or_huge_is_refused(place) -> None:  # type: ignore[no-untyped-def]
    home, work, base = place
    folder = base / "odd"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "a.txt.json").write_bytes(b"{" + b" " * (2 << 20) + b"}")
    with pytest.raises(ImportRefused, match="larger than"):
        import_folder(home, work, OP, "H-1", folder, FolderOptions(collector="desk"))
    (folder / "a.txt.json").unlink()
    os.mkfifo(folder / "a.txt.json")
    with pytest.raises(ImportRefused, match="not a plain file"):
        import_folder(home, work, OP, "H-1", folder, FolderOptions(collector="desk"))
