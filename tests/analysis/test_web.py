"""The web pages of near-duplicates: the case's duplicates view and an item's "Possible
duplicates" section (with its hash) for those who may read the case, nothing for anyone
else; confirming and rejecting by those who may annotate, with the CSRF token, recorded in
the ledger; the nav link; Ukrainian."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import ImageOps

from analysis.kit import OPERATOR, case_with_files, jpeg, natural
from svidok.analysis.hashing import compute_hashes
from svidok.cases.access import Role
from svidok.home import Home
from web.web_kit import add_users, auth_of, client, csrf_of, new_home, signed_in

ROLES = {"olena": Role.OWNER, "mykola": Role.ANALYST, "viktor": Role.VIEWER}


@dataclass
class Site:
    path: Path
    home: Home
    items: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = new_home(tmp_path_factory, "duplicates-web")
    home = Home.open(path)
    scene = natural(41)
    work, case_id, items = case_with_files(home, path.parent / "in", {
        "street.jpg": jpeg(scene), "street-mirrored.jpg": jpeg(ImageOps.mirror(scene)),
        "field.jpg": jpeg(natural(42))})
    auth = auth_of(path)
    users = add_users(work, auth, [*ROLES, "stan"])
    auth.close()
    for name, role in ROLES.items():
        work.grant(OPERATOR, case_id, users[name], role)
    other = work.create_case(OPERATOR, {"reference": "OTHER-9", "title": "Other"}).id
    work.grant(OPERATOR, other, users["stan"], Role.OWNER)
    compute_hashes(home, "tester")
    home.close()
    yield Site(path, home, items)


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[TestClient]:
    with client(site.path) as c:
        yield c


def test_the_duplicates_view(app: TestClient, site: Site) -> None:
    page = signed_in(app, "viktor").get("/cases/dup-2026/duplicates")
    assert page.status_code == 200
    html = page.text
    assert 'href="/cases/dup-2026/duplicates" aria-current="page"' in html  # the nav link
    assert site.items["street.jpg"] in html and site.items["street-mirrored.jpg"] in html
    assert site.items["field.jpg"] not in html
    assert "PDQ distance" in html and "Possible" in html
    assert "/duplicates/decide" not in html  # a viewer does not decide
    assert "Confirm" in signed_in(app, "mykola").get("/cases/dup-2026/duplicates").text


def test_an_items_section_shows_its_hash_to_readers_only(app: TestClient, site: Site) -> None:
    street = site.items["street.jpg"]
    page = signed_in(app, "viktor").get(f"/cases/dup-2026/items/{street}")
    assert f'hx-get="/cases/dup-2026/items/{street}/duplicates"' in page.text
    part = app.get(f"/cases/dup-2026/items/{street}/duplicates")
    assert part.status_code == 200
    assert "Picture hash (PDQ), quality" in part.text and 'class="hash"' in part.text
    assert site.items["street-mirrored.jpg"] in part.text
    alone = app.get(f"/cases/dup-2026/items/{site.items['field.jpg']}/duplicates").text
    assert "No other item of this case looks like this one." in alone
    stranger = signed_in(app, "stan")
    for url in ("/cases/dup-2026/duplicates", f"/cases/dup-2026/items/{street}/duplicates"):
        refused = stranger.get(url)
        assert refused.status_code in (403, 404) and 'class="hash"' not in refused.text
    app.cookies.clear()
    anonymous = app.get("/cases/dup-2026/duplicates", follow_redirects=False)
    assert anonymous.status_code == 303 and "/signin" in anonymous.headers["location"]


def test_decisions(app: TestClient, site: Site) -> None:
    street, mirrored = site.items["street.jpg"], site.items["street-mirrored.jpg"]
    form = {"a": street, "b": mirrored, "decision": "confirmed", "note": "same photograph",
            "next": f"/cases/dup-2026/items/{street}"}
    viewer = signed_in(app, "viktor")
    token = csrf_of(viewer.get("/cases/dup-2026/duplicates").text)
    refused = viewer.post("/cases/dup-2026/duplicates/decide", data={**form, "csrf_token": token},
                          follow_redirects=False)
    assert refused.status_code == 403
    analyst = signed_in(app, "mykola")
    no_token = analyst.post("/cases/dup-2026/duplicates/decide", data=form,
                            follow_redirects=False)
    assert no_token.status_code == 403
    token = csrf_of(analyst.get("/cases/dup-2026/duplicates").text)
    done = analyst.post("/cases/dup-2026/duplicates/decide", data={**form, "csrf_token": token},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == form["next"]
    view = analyst.get("/cases/dup-2026/duplicates").text
    assert "Confirmed" in view and "same photograph" in view
    bad = analyst.post("/cases/dup-2026/duplicates/decide",
                       data={**form, "decision": "perhaps", "csrf_token": token},
                       follow_redirects=False)
    assert bad.status_code == 422 and "one of confirmed, rejected" in bad.text
    with Home.open(site.path) as home:
        decisions = [e for e in home.ledger.iter_entries() if e.type == "duplicate.decision"]
    assert [(e.actor, e.data["decision"], e.data["note"]) for e in decisions] == [
        ("mykola", "confirmed", "same photograph")]
    assert "by" in decisions[0].data


def test_ukrainian(app: TestClient, site: Site) -> None:
    reader = signed_in(app, "viktor")
    reader.cookies.set("svidok_lang", "uk")
    page = reader.get("/cases/dup-2026/duplicates")
    assert "Дублікати" in page.text
