"""The capture page and ``POST /api/v1/cases/{case}/captures``: editors only, CSRF, a
refused URL answered in words with nothing stored, items showing their source URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from capture.capture_kit import Site
from svidok.api.deps import CSRF_HEADER
from svidok.cases.access import Actor
from svidok.cases.service import open_casework
from svidok.home import Home
from web.web_kit import add_users, auth_of, client, csrf_of, new_home, signed_in

API = "/api/v1"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, str]]:
    path = new_home(tmp_path_factory, "capture-web")
    with Home.open(path) as home:
        work = open_casework(home)
        auth = auth_of(path)
        users = add_users(work, auth, ["olena", "petro"])
        auth.close()
        olena = Actor(name="olena", user_id=users["olena"])
        case = work.create_case(olena, {"reference": "UA-WEB-1", "title": "Web"}).id
        work.grant(olena, case, users["petro"], "viewer")
    with client(path) as c:
        yield c, path, case


def _ledger_size(path: Path) -> int:
    with Home.open(path) as h:
        return h.ledger.size


def test_editors_capture_from_the_page(app: tuple[TestClient, Path, str], site: Site) -> None:
    c, path, case = app
    signed_in(c, "olena")
    form = c.get("/cases/UA-WEB-1/capture")
    assert form.status_code == 200 and 'name="url"' in form.text
    token = csrf_of(form.text)
    done = c.post("/cases/UA-WEB-1/capture",
                  data={"url": site.http + "/r1", "note": "from the page", "csrf_token": token})
    assert done.status_code == 201, done.text
    assert "Full-page screenshot" in done.text and site.http + "/r1" in done.text
    items = c.get("/cases/UA-WEB-1/items")
    assert 'href="/cases/UA-WEB-1/capture"' in items.text  # the nav links to the page
    found = re.findall(r'href="/cases/UA-WEB-1/items/([0-9a-f-]{36})"', items.text)
    assert found
    item = c.get(f"/cases/UA-WEB-1/items/{found[0]}")
    assert site.http + "/r1" in item.text  # the acquisition's source: the captured URL
    with Home.open(path) as h:
        (entry,) = [e for e in h.ledger.iter_entries()
                    if e.type == "capture" and e.data["url"] == site.http + "/r1"]
    assert entry.data["case"] == case and entry.actor == "olena"
    assert entry.data["note"] == "from the page"


def test_a_refused_url_is_answered_and_nothing_is_stored(
    app: tuple[TestClient, Path, str],
) -> None:
    c, path, _case = app
    signed_in(c, "olena")
    token = csrf_of(c.get("/cases/UA-WEB-1/capture").text)
    before = _ledger_size(path)
    bad = c.post("/cases/UA-WEB-1/capture",
                 data={"url": "file:///etc/passwd", "csrf_token": token})
    assert bad.status_code == 422 and "only http and https" in bad.text
    assert 'value="file:///etc/passwd"' in bad.text  # the form again, as given
    no_csrf = c.post("/cases/UA-WEB-1/capture", data={"url": "http://127.0.0.1/"})
    assert no_csrf.status_code == 403
    assert _ledger_size(path) == before


def test_viewers_may_not_capture(app: tuple[TestClient, Path, str]) -> None:
    c = app[0]
    signed_in(c, "petro")
    assert c.get("/cases/UA-WEB-1/capture").status_code == 403
    page = c.get("/cases/UA-WEB-1/items")
    assert 'href="/cases/UA-WEB-1/capture"' not in page.text  # no link either


def test_the_api(app: tuple[TestClient, Path, str], site: Site) -> None:
    from web.web_kit import PASSWORD

    c, path, case = app
    c.cookies.clear()
    signed = c.post(f"{API}/session", json={"username": "olena", "password": PASSWORD})
    assert signed.status_code == 201
    headers = {CSRF_HEADER: signed.json()["csrf_token"]}
    made = c.post(f"{API}/cases/{case}/captures", headers=headers,
                  json={"url": site.http + "/gone", "note": "404 page"})
    assert made.status_code == 201, made.text
    data = made.json()
    assert data["status"] == 404 and data["case"] == case
    assert {o["role"] for o in data["objects"]} >= {"wacz", "screenshot", "text", "source"}
    assert all(UUID(i) for i in data["items"])
    before = _ledger_size(path)
    for body in ({"url": "javascript:alert(1)"}, {"url": site.http + "/loop-a"},
                 {"url": site.http + "/", "timeout": 3600}):
        refused = c.post(f"{API}/cases/{case}/captures", headers=headers, json=body)
        assert refused.status_code == 422, refused.text
    assert _ledger_size(path) == before
