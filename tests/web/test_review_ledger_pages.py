"""The review queue (two-person rule said plainly, assessment through the form) and the
ledger page (checkpoint, public key, last verification, checkpoint file)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_kit import OPERATOR, add_users, auth_of, client, csrf_of, new_home, signed_in

from svidok.cases.access import Actor, Role
from svidok.cases.service import Casework, open_casework
from svidok.catalog import schema
from svidok.home import Home

XSS = "<script>alert(1)</script>"


@dataclass
class Site:
    path: Path
    home: Home
    work: Casework
    case: str
    users: dict[str, str]
    submitted: str  # an incident olena created and put in review
    item: str  # an item the operator created, unverified
    person: str  # a person olena put in review


def actor(site: Site, name: str) -> Actor:
    return Actor(name=name, user_id=site.users[name])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = new_home(tmp_path_factory, "web-review")
    home = Home.open(path)
    work = open_casework(home)
    auth = auth_of(path)
    users = add_users(work, auth, ("olena", "iryna", "viktor", "stan"))
    auth.close()
    case = work.create_case(OPERATOR, {"reference": "REV-1", "title": "Case " + XSS}).id
    work.grant(OPERATOR, case, users["olena"], Role.OWNER)
    work.grant(OPERATOR, case, users["iryna"], Role.REVIEWER)
    work.grant(OPERATOR, case, users["viktor"], Role.VIEWER)
    olena = Actor(name="olena", user_id=users["olena"])
    submitted = work.create(olena, case, "incident", {"title": "Shelling " + XSS}).id
    work.assess(olena, case, submitted, "in review", "ready")
    item = work.create(OPERATOR, case, "item", {"title": "Photo"}).id
    person = work.create(
        OPERATOR, case, "person", {"names": [{"value": "Witness W-1", "kind": "pseudonym"}]}
    ).id
    work.assess(olena, case, person, "in review", "please check")
    try:
        yield Site(path, home, work, case, users, submitted, item, person)
    finally:
        home.close()


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[TestClient]:
    with client(site.path) as c:
        yield c


def sign_in(c: TestClient, name: str) -> str:
    """Sign in as ``name``; the session's CSRF token back."""
    return csrf_of(signed_in(c, name).get("/cases").text)


def row_of(html: str, record: str) -> str:
    """The table row of a record on the review page."""
    start = html.index(f'/{record}"')
    return html[html.rindex("<tr>", 0, start) : html.index("</tr>", start)]


def test_queue_lists_records_in_review_and_unverified(app: TestClient, site: Site) -> None:
    sign_in(app, "iryna")
    r = app.get("/cases/REV-1/review")
    assert r.status_code == 200
    html = r.text
    assert f'/cases/REV-1/incidents/{site.submitted}"' in html
    assert f'/cases/REV-1/people/{site.person}"' in html
    assert f'/cases/REV-1/items/{site.item}"' in html
    assert html.index(site.submitted) < html.index("unverified-heading") < html.index(site.item)
    row = row_of(html, site.submitted)
    assert "olena" in row  # who put it in review
    assert 'value="verified"' in row  # iryna is the second reviewer
    assert 'name="next" value="/cases/REV-1/review"' in row
    assert 'value="in review"' in row_of(html, site.item)
    assert XSS not in html and "Shelling &lt;script&gt;" in html


def test_two_person_rule_is_said_plainly(app: TestClient, site: Site) -> None:
    sign_in(app, "olena")
    html = app.get("/cases/REV-1/review").text
    row = row_of(html, site.submitted)
    assert "a second reviewer must" in row and 'value="verified"' not in row
    assert 'value="disputed"' in row  # other decisions stay open
    person_row = row_of(html, site.person)  # created by the operator, put in review by olena
    assert "a second reviewer must" in person_row and 'value="verified"' not in person_row


def test_viewer_sees_no_forms_and_strangers_no_queue(app: TestClient, site: Site) -> None:
    sign_in(app, "viktor")
    html = app.get("/cases/REV-1/review").text
    assert site.submitted in html
    assert "/assess" not in html and "does not include assessing" in html
    sign_in(app, "stan")
    assert app.get("/cases/REV-1/review").status_code == 403
    assert app.get(f"/cases/{site.case}/review").status_code == 403


def test_second_reviewer_verifies_through_the_form(app: TestClient, site: Site) -> None:
    csrf = sign_in(app, "olena")
    r = app.post(
        f"/cases/REV-1/records/{site.submitted}/assess",
        data={
            "csrf_token": csrf,
            "to": "verified",
            "rationale": "mine",
            "next": "/cases/REV-1/review",
        },
    )
    assert r.status_code == 403
    assert site.work.get(OPERATOR, site.case, site.submitted).assessment.value == "in review"
    csrf = sign_in(app, "iryna")
    r = app.post(
        f"/cases/REV-1/records/{site.submitted}/assess",
        data={"to": "verified", "rationale": "no token", "next": "/cases/REV-1/review"},
    )
    assert r.status_code == 403
    assert site.work.get(OPERATOR, site.case, site.submitted).assessment.value == "in review"
    before = len(site.work.assessments(OPERATOR, site.case, site.submitted))
    r = app.post(
        f"/cases/REV-1/records/{site.submitted}/assess",
        data={
            "csrf_token": csrf,
            "to": "verified",
            "rationale": "two sources agree",
            "next": "/cases/REV-1/review",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/cases/REV-1/review"
    assert site.work.get(OPERATOR, site.case, site.submitted).assessment.value == "verified"
    history = site.work.assessments(OPERATOR, site.case, site.submitted)
    assert len(history) == before + 1 and history[-1]["by"] == "iryna"
    with site.home.catalog.engine.connect() as conn:
        entry = conn.execute(
            select(schema.entries.c.type).where(schema.entries.c.idx == history[-1]["entry"])
        ).scalar_one()
    assert entry == "assessment"
    assert site.submitted not in app.get("/cases/REV-1/review").text


def test_queue_pages(app: TestClient, site: Site) -> None:
    olena = actor(site, "olena")
    for n in range(55):
        site.work.create(
            olena, site.case, "source", {"name": f"Source {n:02d}", "source_type": "organisation"}
        )
    sign_in(app, "iryna")
    html = app.get("/cases/REV-1/review").text
    assert "uoffset=50" in html
    later = app.get("/cases/REV-1/review?uoffset=50").text
    assert "Source 54" in later and "Source 00" not in later


def test_ledger_page_shows_checkpoint_key_and_verification(app: TestClient, site: Site) -> None:
    sign_in(app, "stan")  # any signed-in user: the page names no case
    html = app.get("/ledger").text
    assert "Never verified" in html
    assert "svidok.test/web-review" in html
    vkey = (site.path / "keys" / "ledger.pub").read_text().strip()
    assert vkey in html and site.home.verifier.key_id.hex() in html
    assert "svidok verify-receipt" in html
    note = app.get("/ledger/checkpoint.txt")
    assert note.status_code == 200 and note.headers["content-type"].startswith("text/plain")
    assert note.text.startswith("svidok.test/web-review\n")
    assert "attachment" in note.headers["content-disposition"]
    assert note.text.split("\n")[0] in html and "<pre" in html
    done = subprocess.run(
        [sys.executable, "-m", "svidok", "--home", str(site.path), "verify"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    html = app.get("/ledger").text
    assert "Intact." in html and "Never verified" not in html
    app.cookies.clear()
    r = app.get("/ledger", follow_redirects=False)
    assert r.status_code == 303
    assert app.get("/ledger/checkpoint.txt", follow_redirects=False).status_code == 303
