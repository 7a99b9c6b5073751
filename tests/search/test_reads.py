"""Every search response that shows text extracted from originals is recorded first: one
``search.read`` entry naming the originals, the purpose and the way (web page, API, command
line), with the query only as a keyed hash, never in clear."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from conftest import run_ingest
from search.kit import OPERATOR, casework
from svidok.cases.access import Actor, Role
from svidok.derive.text import make_texts
from svidok.home import Home
from svidok.protect import FieldCipher
from svidok.search.normalise import words
from svidok.search.reads import QUERY_CONTEXT
from web.web_kit import PASSWORD, auth_of, client, new_home, signed_in

API = "/api/v1"
TRANSCRIPT = "Стенограма допиту. Свідок Тарас Шевчук бачив колону техніки у Ягідному.\n"


World = tuple[TestClient, Path, dict[str, str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = new_home(tmp_path_factory, "search-reads")
    folder = path.parent / "files"
    folder.mkdir()
    (folder / "transcript.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (folder / "photo.bin").write_bytes(bytes(range(256)) * 8)
    with Home.open(path) as home:
        report = run_ingest(home, folder)
        assert report.ok, [(o.status, o.reason) for o in report.outcomes]
        objects = {o.display.rsplit("/", 1)[-1]: str(o.object_id) for o in report.outcomes}
        work = casework(home)
        user = work.add_user(OPERATOR, "viktor", "Viktor", admin=False)
        case = work.create_case(OPERATOR, {"reference": "READS-1", "title": "Reads"}).id
        work.grant(OPERATOR, case, user.id, Role.VIEWER)
        ids = {"case": case, "user": user.id}
        for name, obj in objects.items():
            ids[name] = work.create(OPERATOR, case, "item", {
                "title": f"Ягідне {name.split('.')[0]}", "object": obj}).id
            ids[f"{name}:object"] = obj
        assert make_texts(home, "tester").extracted == 1
        auth = auth_of(path)
        auth.set_password(UUID(user.id), PASSWORD)
        auth.close()
    with client(path) as c:
        yield c, path, ids


def _entries(path: Path) -> list[dict[str, Any]]:
    raw = (path / "ledger" / "entries.jsonl").read_bytes()
    return [json.loads(line) for line in raw.split(b"\n")[:-1]]


def _reads(path: Path) -> list[dict[str, Any]]:
    return [e for e in _entries(path) if e["type"] == "search.read"]


def _hash(path: Path, query: str) -> str:
    key = FieldCipher.load_or_create(path / "keys" / "fields.key")
    return key.blind(" ".join(words(query)), QUERY_CONTEXT)


def _new_read(path: Path, action: Callable[[], None]) -> dict[str, Any]:
    """The one ``search.read`` entry ``action`` wrote."""
    before = len(_reads(path))
    action()
    reads = _reads(path)
    assert len(reads) == before + 1
    return reads[-1]


def _check(entry: dict[str, Any], path: Path, ids: dict[str, str], via: str,
           query: str) -> None:
    assert entry["data"]["purpose"] == "search" and entry["data"]["via"] == via
    assert (entry["data"]["case"], entry["data"]["record"], entry["data"]["object"]) == (
        ids["case"], ids["transcript.txt"], ids["transcript.txt:object"])
    assert entry["data"]["query"] == _hash(path, query)
    line = json.dumps(entry, ensure_ascii=False)
    for word in ("Шевчук", "Shevchuk", "шевчук", "Ягідн"):
        assert word not in line  # the query is never written in clear


def test_the_web_page_records_the_extracted_text_it_shows(
    world: World,
) -> None:
    c, path, ids = world
    signed_in(c, "viktor")

    def show() -> None:
        page = c.get("/search", params={"q": "Шевчук"})
        assert page.status_code == 200 and "<mark>Шевчук</mark>" in page.text

    read = _new_read(path, show)
    _check(read, path, ids, "web", "Шевчук")
    assert read["data"]["by"] == ids["user"] and read["actor"] == "viktor"


def test_the_api_records_the_extracted_text_it_shows(
    world: World,
) -> None:
    c, path, ids = world
    c.cookies.clear()
    made = c.post(f"{API}/session", json={"username": "viktor", "password": PASSWORD})
    assert made.status_code == 201, made.text

    def show() -> None:
        found = c.get(f"{API}/search", params={"q": "Shevchuk"})
        assert found.status_code == 200 and found.json()["total"] == 1

    _check(_new_read(path, show), path, ids, "api", "Shevchuk")


def test_results_without_extracted_text_are_not_recorded(
    world: World,
) -> None:
    c, path, _ids = world
    signed_in(c, "viktor")
    before = len(_entries(path))
    page = c.get("/search", params={"q": "photo"})  # only the picture, which has no text
    assert page.status_code == 200 and "photo" in page.text
    nothing = c.get("/search", params={"q": "zzqx"})
    assert nothing.status_code == 200
    assert len(_entries(path)) == before


def test_the_command_line_records_the_extracted_text_it_shows(
    world: World,
) -> None:
    _c, path, ids = world

    def show() -> None:
        done = subprocess.run(
            [sys.executable, "-m", "svidok", "search", "Ягідне", "--home", str(path), "--json"],
            capture_output=True, text=True, check=False, timeout=300)
        assert done.returncode == 0, done.stderr
        assert {h["record"] for h in json.loads(done.stdout)["hits"]} == {
            ids["transcript.txt"], ids["photo.bin"]}

    read = _new_read(path, show)
    _check(read, path, ids, "cli", "Ягідне")
    assert "by" not in read["data"]  # the local operator


def test_an_actor_without_access_records_nothing(
    world: World,
) -> None:
    _c, path, _ids = world
    with Home.open(path) as home:
        work = casework(home)
        stranger = work.add_user(OPERATOR, "stranger", "Stranger", admin=False)
        from svidok.search.reads import record_read
        from svidok.search.service import search

        actor = Actor(name="stranger", user_id=stranger.id)
        with home.catalog.engine.connect() as conn:
            results = search(conn, actor, "Шевчук")
        assert results.hits == ()
        assert record_read(home, actor, results, "api", None) == []


def test_a_search_read_is_in_the_custody_history_of_the_item_it_showed(
    world: World,
) -> None:
    c, path, ids = world
    signed_in(c, "viktor")
    read = _new_read(path, lambda: c.get("/search", params={"q": "Ягідне"}))
    with Home.open(path) as home:
        history = casework(home).history(OPERATOR, ids["case"], ids["transcript.txt"])
    assert read["index"] in [h.index for h in history if h.type == "search.read"]
