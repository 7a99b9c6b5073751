"""Imports: a CSV list of people, a folder of files with sidecars, and a package from another
Svidok. Bad rows refuse the whole import (each with its line and reason, nothing written);
a second run adds nothing; protected values never reach the ledger in clear."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_samples
from svidok.cases.access import Actor
from svidok.cases.service import open_casework
from svidok.cases.views import RecordFilter
from svidok.demo import run_demo
from svidok.export.package import Selection, export_case
from svidok.home import Home
from svidok.imports.common import ImportRefused
from svidok.imports.folder import FolderOptions, import_folder
from svidok.imports.package import import_package
from svidok.imports.people import PeopleOptions, import_people, parse_mapping

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "svidok"]
OP = Actor.operator("tester")

VICTIMS = """Прізвище;Ім'я;По батькові;Стать;Вік;Дата народження;Статус;Телефон;Примітка
Шевченко;Олена;Петрівна;ж;54;12.03.1968;загинула;+380 00 000 11 22;вул. Яблунська
Коваленко;Іван;;ч;;;зник безвісти;;
Шевченко;Олена;Петрівна;ж;54;12.03.1968;загинула;+380 00 000 11 22;вул. Яблунська
"""
MAP = ["Прізвище=name", "Ім'я=name", "По батькові=name", "Стать=sex", "Вік=age",
       "Дата народження=birth_date", "Статус=status", "Телефон=contact",
       "Примітка=description"]


@pytest.fixture()
def work_home(home_path: Path):  # type: ignore[no-untyped-def]
    with Home.open(home_path) as home:
        work = open_casework(home)
        work.create_case(OP, {"reference": "IMP-1", "title": "Imports"})
        yield home, work


def _people(work, case: str = "IMP-1"):  # type: ignore[no-untyped-def]
    case_id = work.find_case(OP, case).id
    return work.find(OP, case_id, RecordFilter(kind="person"), limit=500).items


def test_people_list_with_mapping(work_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home, work = work_home
    csv = tmp_path / "victims.csv"
    csv.write_text(VICTIMS, encoding="utf-8")
    options = PeopleOptions(mapping=parse_mapping(MAP), tags=("list:bucha-council",))
    report = import_people(work, OP, "IMP-1", csv, options)
    assert len(report.created) == 2 and not report.unchanged
    assert any("line 4" in n.where and "line 2" in n.reason for n in report.notes)
    people = {p.fields["names"][0]["value"]: p for p in _people(work)}
    olena = people["Шевченко Олена Петрівна"].fields
    assert olena["sex"] == "female" and olena["age"] == 54
    assert olena["birth_date"] == "1968-03-12" and olena["status"] == "deceased"
    assert olena["contact"] == "+380 00 000 11 22"  # the operator may read it
    assert "list:bucha-council" in olena["tags"]
    assert people["Коваленко Іван"].fields["status"] == "missing"
    ledger = (home.path / "ledger" / "entries.jsonl").read_bytes()
    assert b"+380 00 000 11 22" not in ledger  # sealed, never in clear
    size = home.ledger.size
    again = import_people(work, OP, "IMP-1", csv, options)
    assert not again.created and len(again.unchanged) == 2
    assert home.ledger.size == size  # a second run writes nothing


BAD = """name,sex,age,birth_date
Петренко Петро,ч,40,1982-01-01
Сидоренко,xyz,12,2010-01-01
Мельник,ж,sixty,1960-01-01
Бондар,ч,30,31.02.1990
Ткаченко,ч,30,1990-01-01,extra
,ж,1,
"""


def test_bad_rows_refuse_the_whole_file(work_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home, work = work_home
    csv = tmp_path / "bad.csv"
    csv.write_text(BAD, encoding="utf-8")
    size = home.ledger.size
    with pytest.raises(ImportRefused) as caught:
        import_people(work, OP, "IMP-1", csv, PeopleOptions(mapping={}))
    where = {p.where: p.reason for p in caught.value.problems}
    assert set(where) == {f"bad.csv line {n}" for n in (3, 4, 5, 6, 7)}, where
    assert "sex 'xyz'" in where["bad.csv line 3"]
    assert "sixty" in where["bad.csv line 4"]
    assert "not a real date" in where["bad.csv line 5"]
    assert "1 values more" in where["bad.csv line 6"]
    assert "no name" in where["bad.csv line 7"]
    assert home.ledger.size == size and not _people(work)
    with pytest.raises(ImportRefused, match="no column named"):
        import_people(work, OP, "IMP-1", csv, PeopleOptions(mapping={"Nope": "name"}))
    with pytest.raises(ImportRefused, match="not one of"):
        parse_mapping(["name=colour"])


def test_encoding_is_said_not_guessed(work_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _home, work = work_home
    csv = tmp_path / "cp1251.csv"
    csv.write_bytes("name;status\nГончаренко Марія;загинула\n".encode("cp1251"))
    with pytest.raises(ImportRefused, match="cp1251"):
        import_people(work, OP, "IMP-1", csv, PeopleOptions(mapping={}))
    report = import_people(work, OP, "IMP-1", csv, PeopleOptions(mapping={}, encoding="cp1251"))
    assert len(report.created) == 1
    assert _people(work)[0].fields["names"][0]["value"] == "Гончаренко Марія"


def test_folder_with_sidecars(work_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home, work = work_home
    samples = write_samples(tmp_path / "samples")
    folder = tmp_path / "handover"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(samples / "bucha-street.jpg", folder)
    shutil.copy(samples / "incident-report.pdf", folder / "sub")
    shutil.copy(samples / "witness-statement.txt", folder)
    case_id = work.find_case(OP, "IMP-1").id
    src = work.create(OP, case_id, "source", {"name": "Bucha city council", "reliability": "B",
                                                 "source_type": "organisation"})
    (folder / "bucha-street.jpg.json").write_text(json.dumps({
        "title": "Яблунська вулиця", "captured": "2022-04-02T10:41:07+03:00",
        "lat": 50.5436, "lon": 30.2171, "precision_m": 15, "tags": ["street"],
        "source": "Bucha city council", "collector": "Field team 2",
        "provenance": "phone of witness W-3"}, ensure_ascii=False), encoding="utf-8")
    (folder / "sub" / "incident-report.pdf.csv").write_text(
        "title,item_kind,captured,captured_precision,tags\n"
        "Police report (scan),document,2022-04-03,day,report;police\n", encoding="utf-8")
    report = import_folder(home, work, OP, "IMP-1", folder, FolderOptions(collector="Desk"))
    assert report.ok and len(report.created) == 3 and report.files["preserved"] == 3
    items = {i.label: i for i in work.find(OP, case_id, RecordFilter(kind="item")).items}
    street = items["Яблунська вулиця"].fields
    assert street["location"] == {"lat": 50.5436, "lon": 30.2171, "precision_m": 15}
    assert street["source"] == src.id and street["captured"]["start"].startswith("2022-04-02")
    assert street["item_kind"] == "photo"  # what intake found, where the sidecar is silent
    police = items["Police report (scan)"].fields
    assert police["item_kind"] == "document" and police["tags"] == ["report", "police"]
    assert "witness-statement.txt" in items  # no sidecar: the file name is the title
    acquisitions = [e for e in home.ledger.iter_entries() if e.type == "acquisition"]
    by_name = {a.data["name"]["utf8"]: a for a in acquisitions}
    assert by_name["bucha-street.jpg"].data["collector"] == "Field team 2"
    assert by_name["bucha-street.jpg"].data["source"] == "phone of witness W-3"
    assert by_name["incident-report.pdf"].data["collector"] == "Desk"
    assert not any(n.endswith((".json", ".csv")) for n in by_name)  # sidecars: not evidence
    size = home.ledger.size
    again = import_folder(home, work, OP, "IMP-1", folder, FolderOptions(collector="Desk"))
    assert not again.created and len(again.unchanged) == 3
    assert home.ledger.size == size


@pytest.mark.parametrize("sidecar, words", [
    ('{"title": "x", "colour": "red"}', "unknown keys colour"),
    ('{"title": "x", "lat": 200, "lon": 1}', "less than or equal to 90"),
    ('{"title": "x", "captured": "yesterday"}', "ISO 8601"),
    ('{"title": "x", "source": "Nobody"}', "no source of this case"),
    ('{"title": ', "not valid UTF-8 JSON"),
    ('["a list"]', "not a JSON object"),
])
def test_a_bad_sidecar_refuses_everything(work_home, tmp_path: Path, sidecar: str,  # type: ignore[no-untyped-def]
                                          words: str) -> None:
    home, work = work_home
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "good.txt").write_text("a good file")
    (folder / "bad.txt").write_text("a file with a bad sidecar")
    (folder / "bad.txt.json").write_text(sidecar)
    size = home.ledger.size
    with pytest.raises(ImportRefused) as caught:
        import_folder(home, work, OP, "IMP-1", folder, FolderOptions(collector="Desk"))
    assert [p.where for p in caught.value.problems] == ["bad.txt (sidecar)"]
    assert words in caught.value.problems[0].reason, caught.value.problems
    assert home.ledger.size == size  # not even the good file was taken in


def test_links_in_a_folder_are_refused(work_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home, work = work_home
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "link").symlink_to("/etc/passwd")
    with pytest.raises(ImportRefused, match="not a plain file"):
        import_folder(home, work, OP, "IMP-1", folder, FolderOptions(collector="Desk"))


def _sender(tmp_path: Path) -> Path:
    """Another archive, with the demo case."""
    sender = tmp_path / "sender"
    Home.init(sender, origin="svidok.test/sender", actor="tester")
    with Home.open(sender) as other:
        run_demo(other, OP, write_samples(tmp_path / "samples"))
    return sender


def test_package_from_another_svidok(work_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home, work = work_home
    sender = _sender(tmp_path)
    with Home.open(sender) as other:
        export_case(other, open_casework(other), OP, "demo", Selection(), tmp_path / "p.zip",
                    recipient="partner", purpose="joint documentation")
        demo = open_casework(other).find_case(OP, "demo").id
        sent_links = len(open_casework(other).links(OP, demo))
    vkey = (sender / "keys" / "ledger.pub").read_text().strip()
    with pytest.raises(ImportRefused, match="published key"):
        import_package(home, work, OP, "IMP-1", tmp_path / "p.zip", key=None, collector="Desk")
    report = import_package(home, work, OP, "IMP-1", tmp_path / "p.zip", key=vkey,
                            collector="Desk")
    assert report.ok, report.problems
    case_id = work.find_case(OP, "IMP-1").id
    items = work.find(OP, case_id, RecordFilter(kind="item")).items
    assert len(items) == 8 and all(any(t.startswith("imported-from:") for t in i.fields["tags"])
                                   for i in items)
    assert len(work.links(OP, case_id)) > 0
    assert len(work.links(OP, case_id)) <= sent_links
    acquisitions = [e for e in home.ledger.iter_entries() if e.type == "acquisition"]
    assert all("Svidok package" in a.data["source"] for a in acquisitions)
    assert all("svidok.test/sender" in a.data["source"] for a in acquisitions)
    placed = [i for i in items if i.fields.get("location", {}).get("place")]
    for item in placed:  # references point at this case's records
        assert work.get(OP, case_id, item.fields["location"]["place"]).kind == "place"
    size = home.ledger.size
    again = import_package(home, work, OP, "IMP-1", tmp_path / "p.zip", key=vkey,
                           collector="Desk")
    assert not again.created and home.ledger.size == size


def test_a_tampered_package_is_refused(work_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home, work = work_home
    sender = _sender(tmp_path)
    with Home.open(sender) as other:
        export_case(other, open_casework(other), OP, "demo", Selection(query="bucha"),
                    tmp_path / "p", recipient="partner", purpose="x")
    victim = next((tmp_path / "p" / "data" / "originals").iterdir())
    victim.write_bytes(victim.read_bytes() + b"!")
    size = home.ledger.size
    with pytest.raises(ImportRefused, match="changed"):
        import_package(home, work, OP, "IMP-1", tmp_path / "p", key=None, collector="Desk",
                       accept_packaged_key=True)
    assert home.ledger.size == size


def test_cli_import_people(home_path: Path, tmp_path: Path) -> None:
    subprocess.run([*CLI, "--home", str(home_path), "case", "create", "IMP-2", "--title", "t"],
                   check=True, capture_output=True)
    csv = tmp_path / "bad.csv"
    csv.write_text(BAD, encoding="utf-8")
    bad = subprocess.run([*CLI, "--home", str(home_path), "import", "people", str(csv),
                          "--case", "IMP-2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "bad.csv line 4" in bad.stderr and "Traceback" not in bad.stderr
    assert "nothing was imported" in bad.stderr
    good = tmp_path / "v.csv"
    good.write_text(VICTIMS, encoding="utf-8")
    args = [*CLI, "--home", str(home_path), "import", "people", str(good), "--case", "IMP-2",
            *[a for m in MAP for a in ("--map", m)], "--json"]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 2
    again = subprocess.run(args, capture_output=True, text=True)
    assert json.loads(again.stdout)["unchanged"] == 2
