"""The search page and ``GET /api/v1/search``: signed-in users only, results only from
their cases, matched words marked, everything a record holds escaped, bad input refused in
words."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from search.kit import World, build
from svidok.home import Home
from web.web_kit import PASSWORD, auth_of, client, new_home, signed_in

API = "/api/v1"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, World]]:
    path = new_home(tmp_path_factory, "search-web")
    with Home.open(path) as home:
        w = build(home)
        auth = auth_of(path)
        for actor in (w.owner, w.viewer, w.outsider):
            auth.set_password(UUID(actor.user_id or ""), PASSWORD)
        auth.close()
    with client(path) as c:
        yield c, w


def test_the_page_shows_marked_results_of_the_users_cases(
    app: tuple[TestClient, World],
) -> None:
    c, w = app
    signed_in(c, "viktor")
    page = c.get("/search", params={"q": "Буча"})
    assert page.status_code == 200
    assert "<mark>Буча</mark>" in page.text and "<mark>Bucha</mark>" in page.text
    assert f'/cases/UA-2022-KYIV/incidents/{w.ids["yablunska"]}' in page.text
    assert f'/cases/UA-2022-KYIV/records/{w.ids["bucha"]}' in page.text
    assert w.ids["secret"] not in page.text and "secret incident" not in page.text
    assert 'action="/search"' in c.get("/cases").text  # the search box in the navigation
    filtered = c.get("/search", params={"q": "", "near": "50.54,30.22", "radius": "2"})
    assert filtered.status_code == 200 and w.ids["bucha"] in filtered.text
    assert w.ids["irpin"] not in filtered.text


def test_record_text_is_escaped(app: tuple[TestClient, World]) -> None:
    c, w = app
    signed_in(c, "viktor")
    page = c.get("/search", params={"q": "airport"})
    assert page.status_code == 200 and w.ids["airport"] in page.text
    assert "<script>x()" not in page.text and "<b>Гостомель" not in page.text
    assert "&lt;script&gt;" in page.text


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"q": '"'}, 422, "search for"),
        ({"q": "NEAR( * - :"}, 200, ""),
        ({"q": "x" * 10_000}, 422, "too long"),
        ({"q": "Bucha", "near": "north"}, 422, "LAT,LON"),
        ({"q": "Bucha", "near": "50,30", "radius": "far"}, 422, "kilometres"),
        ({"q": "Bucha", "case": "UA-2022-SECRET"}, 422, "no access"),
        ({"q": "Bu\x00cha"}, 200, ""),
    ],
)
def test_bad_input_gets_a_page_that_says_why(
    app: tuple[TestClient, World], params: dict[str, str], status: int, message: str
) -> None:
    c, _w = app
    signed_in(c, "viktor")
    page = c.get("/search", params=params)
    assert page.status_code == status
    assert message in page.text


def test_the_page_needs_a_signed_in_user(app: tuple[TestClient, World]) -> None:
    c, _w = app
    c.cookies.clear()
    page = c.get("/search", params={"q": "Bucha"}, follow_redirects=False)
    assert page.status_code == 303 and "/signin" in page.headers["location"]


def _api_session(c: TestClient, name: str) -> None:
    c.cookies.clear()
    made = c.post(f"{API}/session", json={"username": name, "password": PASSWORD})
    assert made.status_code == 201, made.text


def test_api_search(app: tuple[TestClient, World]) -> None:
    c, w = app
    _api_session(c, "viktor")
    found = c.get(f"{API}/search", params={"q": "Буча"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total"] == 2
    assert {h["record"] for h in body["hits"]} == {w.ids["bucha"], w.ids["yablunska"]}
    assert any(s["match"] for h in body["hits"] for s in h["snippet"])
    kinds = c.get(f"{API}/search", params={"q": "", "kind": "place", "from": "2022"})
    assert kinds.status_code == 200 and kinds.json()["total"] == 0
    _api_session(c, "outsider")
    assert {h["record"] for h in c.get(f"{API}/search", params={"q": "Bucha"}).json()["hits"]} \
        == {w.ids["secret"]}
    _api_session(c, "viktor")
    bad = c.get(f"{API}/search", params={"q": "Bucha", "radius": "5"})
    assert bad.status_code == 422 and "near" in bad.text
    other = c.get(f"{API}/search", params={"q": "Bucha", "case": "UA-2022-SECRET"})
    assert other.status_code == 403
    c.cookies.clear()
    assert c.get(f"{API}/search", params={"q": "Bucha"}).status_code == 401
