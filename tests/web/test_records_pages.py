"""Incidents, people, places and sources pages: access, escaping of stored text, protected
fields per role, edits that keep what a role cannot see, CSRF, and the record page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_kit import OPERATOR, add_users, auth_of, client, csrf_of, new_home, signed_in

from svidok.cases.access import Actor, Role
from svidok.cases.service import Casework, open_casework
from svidok.cases.views import RecordFilter, RecordView
from svidok.home import Home

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
BIDI = "Tetiana\u202eanaiteT"
ROLES = {
    "olena": Role.OWNER,
    "taras": Role.INVESTIGATOR,
    "iryna": Role.REVIEWER,
    "mykola": Role.ANALYST,
    "viktor": Role.VIEWER,
}
SECRETS = {
    "legal_name": "Hanna Secretname",
    "contact": "+380 44 000 0001",
    "address": "7 Hidden Lane",
    "identity_document": "PASSPORT-XY-123",
    "protected_notes": "lives with her sister",
}


@dataclass
class Site:
    path: Path
    home: Home
    work: Casework
    case: str
    foreign: str
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = new_home(tmp_path_factory, "records")
    home = Home.open(path)
    work = open_casework(home)
    auth = auth_of(path)
    users = add_users(work, auth, [*ROLES, "stan"])
    auth.close()
    case = work.create_case(OPERATOR, {"reference": "REC-1", "title": "Records"}).id
    foreign = work.create_case(OPERATOR, {"reference": "FOREIGN-1", "title": "Other"}).id
    for name, role in ROLES.items():
        work.grant(OPERATOR, case, users[name], role)
    work.grant(OPERATOR, foreign, users["stan"], Role.OWNER)
    site = Site(path, home, work, case, foreign)
    ids = site.ids
    ids["place"] = work.create(
        OPERATOR,
        case,
        "place",
        {
            "name": "Yablunska " + SCRIPT,
            "lat": 50.5436,
            "lon": 30.2156,
            "variants": [{"value": "Яблунська " + IMG, "script": "Cyrl"}],
        },
    ).id
    ids["source"] = work.create(
        OPERATOR,
        case,
        "source",
        {
            "name": "NGO " + IMG,
            "source_type": "organisation",
            "reliability": "B",
            "url": "javascript:alert(1)",
            "contact": "source-secret@example.org",
        },
    ).id
    ids["incident"] = work.create(
        OPERATOR,
        case,
        "incident",
        {
            "title": "Shelling " + SCRIPT,
            "description": "Seen " + IMG + " " + BIDI,
            "time": {"start": "2022-03-27", "end": "2022-03-30", "precision": "day"},
            "places": [ids["place"]],
            "categories": ["art8-2-b-i"],
            "status": "corroborated",
        },
    ).id
    ids["person"] = work.create(
        OPERATOR,
        case,
        "person",
        {
            "names": [
                {"value": "Witness " + SCRIPT, "kind": "pseudonym", "script": "Latn"},
                {"value": "Свідок " + BIDI, "kind": "variant", "script": "Cyrl"},
            ],
            "sex": "female",
            "age": 44,
            "status": "alive",
            **SECRETS,
        },
    ).id
    ids["item"] = work.create(
        OPERATOR,
        case,
        "item",
        {
            "title": "Photo " + IMG,
            "captured": {"start": "2022-03-31T10:00:00Z"},
            "location": {"lat": 50.544, "lon": 30.216, "precision_m": 25},
        },
    ).id
    work.link(OPERATOR, case, "item-incident", ids["item"], ids["incident"], "shows the street")
    work.link(OPERATOR, case, "person-incident", ids["person"], ids["incident"], "witness of")
    try:
        yield site
    finally:
        home.close()


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[TestClient]:
    with client(site.path) as c:
        yield c


def pages(site: Site) -> list[str]:
    ids = site.ids
    return [
        "/cases/REC-1/incidents",
        f"/cases/REC-1/incidents/{ids['incident']}",
        f"/cases/REC-1/incidents/{ids['incident']}/edit",
        "/cases/REC-1/people",
        f"/cases/REC-1/people/{ids['person']}",
        f"/cases/REC-1/people/{ids['person']}/edit",
        "/cases/REC-1/places",
        "/cases/REC-1/sources",
        f"/cases/REC-1/records/{ids['place']}",
        f"/cases/REC-1/records/{ids['source']}",
    ]


def assert_escaped(html: str) -> None:
    assert SCRIPT not in html and "<img src=x" not in html and "\u202e" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "\\u003cscript" in html


def test_pages_render_for_members_and_refuse_strangers(app: TestClient, site: Site) -> None:
    signed_in(app, "viktor")
    for url in pages(site):
        if url.endswith("/edit"):
            continue  # a viewer may not edit
        r = app.get(url)
        assert r.status_code == 200, (url, r.text[:500])
    signed_in(app, "olena")
    for url in [*pages(site), "/cases/REC-1/incidents/new", "/cases/REC-1/people/new"]:
        assert app.get(url).status_code == 200, url
    signed_in(app, "stan")
    for url in pages(site):
        r = app.get(url)
        assert r.status_code == 403, url
        assert "Shelling" not in r.text and "Witness" not in r.text


def test_viewer_may_not_open_edit_forms(app: TestClient, site: Site) -> None:
    signed_in(app, "viktor")
    assert app.get(f"/cases/REC-1/incidents/{site.ids['incident']}/edit").status_code == 403
    assert app.get("/cases/REC-1/incidents/new").status_code == 403
    assert app.get("/cases/REC-1/people/new").status_code == 403


def test_stored_text_is_escaped_everywhere(app: TestClient, site: Site) -> None:
    signed_in(app, "olena")
    for url in pages(site):
        html = app.get(url).text
        assert SCRIPT not in html, url
        assert "<img src=x" not in html, url
        if not url.endswith("/edit"):  # a form keeps the exact text, escaped, to edit it
            assert "\u202e" not in html, url
    assert_escaped(app.get("/cases/REC-1/incidents").text)
    html = app.get(f"/cases/REC-1/people/{site.ids['person']}").text
    assert "Свідок Tetiana\\u202eanaiteT" in html
    source = app.get(f"/cases/REC-1/records/{site.ids['source']}").text
    assert 'href="javascript:' not in source  # a stored URL is a link only if http(s)


def test_incident_page_shows_categories_evidence_people_map_and_timeline(
    app: TestClient, site: Site
) -> None:
    signed_in(app, "viktor")
    html = app.get(f"/cases/REC-1/incidents/{site.ids['incident']}").text
    assert "Attacking civilians" in html or "8(2)(b)(i)" in html
    assert f"/cases/REC-1/items/{site.ids['item']}" in html
    assert "shows the street" in html and "witness of" in html
    assert 'id="incident-map"' in html and "incident-map-data" in html
    assert "<svg" in html and "tl-incident" in html and "tl-item" in html
    assert "Link to another record" not in html  # a viewer may not link


def test_protected_fields_by_role(app: TestClient, site: Site) -> None:
    person = site.ids["person"]
    for name in ("viktor", "mykola"):
        signed_in(app, name)
        for url in (f"/cases/REC-1/people/{person}", "/cases/REC-1/people"):
            html = app.get(url).text
            for value in SECRETS.values():
                assert value not in html, (name, url)
        assert (
            "protected — your role cannot see this" in app.get(f"/cases/REC-1/people/{person}").text
        )
        source = app.get(f"/cases/REC-1/records/{site.ids['source']}").text
        assert "source-secret@example.org" not in source
    signed_in(app, "mykola")
    form = app.get(f"/cases/REC-1/people/{person}/edit").text
    for value in SECRETS.values():
        assert value not in form
    assert 'name="legal_name"' not in form and 'name="contact"' not in form
    signed_in(app, "taras")
    html = app.get(f"/cases/REC-1/people/{person}").text
    for value in SECRETS.values():
        assert value in html
    form = app.get(f"/cases/REC-1/people/{person}/edit").text
    assert 'name="legal_name"' in form and SECRETS["legal_name"] in form
    source = app.get(f"/cases/REC-1/records/{site.ids['source']}").text
    assert "source-secret@example.org" in source


def test_analyst_edit_keeps_protected_values(app: TestClient, site: Site) -> None:
    person = site.ids["person"]
    before = site.work.get(OPERATOR, site.case, person)
    signed_in(app, "mykola")
    token = csrf_of(app.get(f"/cases/REC-1/people/{person}/edit").text)
    data = {
        "csrf_token": token,
        "version": str(before.version),
        "name_rows": "1",
        "name_value_0": "Renamed",
        "sex": "male",
        "status": "missing",
        "tags": "checked",
        **{name: "" for name in SECRETS},
    }
    r = app.post(f"/cases/REC-1/people/{person}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    after = site.work.get(OPERATOR, site.case, person)
    assert after.fields["tags"] == ["checked"]
    assert after.fields["names"] == before.fields["names"]  # an analyst changes tags only
    for name, value in SECRETS.items():
        assert after.fields[name] == value


def test_investigator_edits_person_and_keeps_secrets_unless_cleared(
    app: TestClient, site: Site
) -> None:
    record = site.work.create(
        OPERATOR,
        site.case,
        "person",
        {
            "names": [{"value": "W-2", "kind": "pseudonym"}],
            "legal_name": "Real Name",
            "contact": "phone 1",
        },
    )
    signed_in(app, "taras")
    token = csrf_of(app.get(f"/cases/REC-1/people/{record.id}/edit").text)
    data = {
        "csrf_token": token,
        "version": str(record.version),
        "name_rows": "2",
        "name_value_0": "W-2",
        "name_kind_0": "pseudonym",
        "name_script_0": "Latn",
        "name_value_1": "В-2",
        "name_kind_1": "transliteration",
        "name_script_1": "Cyrl",
        "sex": "unknown",
        "status": "alive",
        "age": "30",
        "legal_name": "Real Name",
        "contact": "",
    }
    r = app.post(f"/cases/REC-1/people/{record.id}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:800]
    after = site.work.get(OPERATOR, site.case, record.id)
    assert [n["value"] for n in after.fields["names"]] == ["W-2", "В-2"]
    assert after.fields["age"] == 30 and after.fields["legal_name"] == "Real Name"
    assert "contact" not in after.fields  # cleared on purpose by a role that saw it
    stale = app.post(f"/cases/REC-1/people/{record.id}/edit", data=data)
    assert stale.status_code == 409  # made against an older version


def test_forms_without_csrf_are_refused_and_change_nothing(app: TestClient, site: Site) -> None:
    signed_in(app, "olena")
    work = site.work
    count = {
        k: work.find(OPERATOR, site.case, RecordFilter(kind=k), limit=1).total
        for k in ("incident", "person", "place", "source")
    }
    incident = work.get(OPERATOR, site.case, site.ids["incident"])
    posts = [
        ("/cases/REC-1/incidents", {"title": "Forged", "status": "reported"}),
        ("/cases/REC-1/people", {"name_rows": "1", "name_value_0": "Forged"}),
        ("/cases/REC-1/places", {"name": "Forged"}),
        ("/cases/REC-1/sources", {"name": "Forged", "source_type": "person"}),
        (f"/cases/REC-1/incidents/{site.ids['incident']}/edit", {"title": "Forged"}),
        (
            f"/cases/REC-1/people/{site.ids['person']}/edit",
            {"name_rows": "1", "name_value_0": "Forged"},
        ),
    ]
    for url, data in posts:
        for extra in ({}, {"csrf_token": "not-the-token"}):
            r = app.post(url, data={**data, **extra}, follow_redirects=False)
            assert r.status_code in (400, 403), (url, r.status_code)
    for kind, total in count.items():
        assert work.find(OPERATOR, site.case, RecordFilter(kind=kind), limit=1).total == total
    assert work.get(OPERATOR, site.case, site.ids["incident"]).version == incident.version


def created(app: TestClient, site: Site, url: str, data: dict[str, Any]) -> tuple[RecordView, str]:
    """The record a create form posted to ``url`` made, and the page the answer sends to."""
    r = app.post(url, data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:800]
    page = r.headers["location"]
    return site.work.get(OPERATOR, site.case, page.rsplit("/", 1)[1]), page


def test_create_and_edit_incident(app: TestClient, site: Site) -> None:
    signed_in(app, "taras")
    token = csrf_of(app.get("/cases/REC-1/incidents/new").text)
    data = {
        "csrf_token": token,
        "title": "Detention " + SCRIPT,
        "description": "d",
        "time_start": "2022-03-05",
        "time_end": "2022-03-09",
        "time_precision": "day",
        "places": [site.ids["place"]],
        "categories": ["art7-1-e", "art8-2-a-vii"],
        "status": "reported",
        "tags": "a, b, a",
    }
    view, page = created(app, site, "/cases/REC-1/incidents", data)
    record = view.id
    assert view.fields["categories"] == ["art7-1-e", "art8-2-a-vii"]
    assert view.fields["places"] == [site.ids["place"]] and view.fields["tags"] == ["a", "b"]
    assert view.fields["time"] == {"start": "2022-03-05", "end": "2022-03-09", "precision": "day"}
    html = app.get(page).text
    assert_escaped(html)
    bad = app.post("/cases/REC-1/incidents", data={**data, "categories": ["no-such"]})
    assert bad.status_code == 422 and "no-such" in bad.text
    assert 'value="Detention &lt;script&gt;' in bad.text  # the form keeps what was typed
    edit = {**data, "version": str(view.version), "status": "corroborated", "time_end": ""}
    r = app.post(f"/cases/REC-1/incidents/{record}/edit", data=edit, follow_redirects=False)
    assert r.status_code == 303, r.text[:800]
    view = site.work.get(OPERATOR, site.case, record)
    assert view.fields["status"] == "corroborated" and "end" not in view.fields["time"]
    listed = app.get("/cases/REC-1/incidents?category=art7-1-e").text
    assert f"/incidents/{record}" in listed and f"/incidents/{site.ids['incident']}" not in listed
    assert f"/incidents/{record}" not in app.get("/cases/REC-1/incidents?status=closed").text
    assert (
        f"/incidents/{record}"
        in app.get("/cases/REC-1/incidents?time_from=2022-03-05&time_to=2022-03-05").text
    )
    assert f"/incidents/{record}" not in app.get("/cases/REC-1/incidents?time_from=2022-04-01").text


def test_create_person_place_and_source(app: TestClient, site: Site) -> None:
    signed_in(app, "taras")
    token = csrf_of(app.get("/cases/REC-1/people/new").text)
    person, _ = created(
        app,
        site,
        "/cases/REC-1/people",
        {
            "csrf_token": token,
            "name_rows": "2",
            "name_value_0": "Olha " + IMG,
            "name_script_0": "Latn",
            "name_kind_0": "primary",
            "name_value_1": "Ольга",
            "name_script_1": "Cyrl",
            "name_kind_1": "variant",
            "sex": "female",
            "age": "31",
            "status": "missing",
            "legal_name": "Olha Real",
        },
    )
    assert person.fields["legal_name"] == "Olha Real" and len(person.fields["names"]) == 2
    people = app.get("/cases/REC-1/people?q=Ольга").text  # any name, not only the first
    assert person.id in people
    place, _ = created(
        app,
        site,
        "/cases/REC-1/places",
        {
            "csrf_token": token,
            "name": "Irpin bridge",
            "variants": "Ірпінь\nIrpen",
            "lat": "50.52",
            "lon": "30.25",
            "admin_area": "Kyiv Oblast",
        },
    )
    assert place.fields["variants"][0] == {"value": "Ірпінь", "script": "Cyrl"}
    bad = app.post(
        "/cases/REC-1/places", data={"csrf_token": token, "name": "x", "lat": "91", "lon": "0"}
    )
    assert bad.status_code == 422
    source, page = created(
        app,
        site,
        "/cases/REC-1/sources",
        {
            "csrf_token": token,
            "name": "Reporter",
            "source_type": "person",
            "reliability": "C",
            "url": "https://example.org/a",
            "contact": "signal: +380",
        },
    )
    assert source.fields["contact"] == "signal: +380" and source.fields["reliability"] == "C"
    assert 'href="https://example.org/a"' in app.get(page).text


def test_record_page_redirects_for_kinds_with_their_own_page(app: TestClient, site: Site) -> None:
    signed_in(app, "viktor")
    r = app.get(f"/cases/REC-1/records/{site.ids['incident']}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/cases/REC-1/incidents/{site.ids['incident']}"
    assert app.get(f"/cases/REC-1/incidents/{site.ids['person']}").status_code == 404


class _Fields(HTMLParser):
    """What a browser submits with a page's form (text inputs, hidden inputs, textareas,
    selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type", "text") not in {"submit", "file"}:
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            chosen = "selected" in a or self._select not in self.values  # or the first
            self.values[self._select] = a.get("value", "") if chosen else self.values[self._select]

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(html[html.index('<form method="post" action="/cases/') :])
    return parser.values


def test_save_keeps_a_protected_value_the_form_did_not_show(
    app: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value hidden even from a role that may read protected fields (no key to decrypt
    it) is not in the form; saving the form must leave it, not clear it."""
    record = site.work.create(
        OPERATOR,
        site.case,
        "person",
        {
            "names": [{"value": "W-3", "kind": "pseudonym", "script": "Latn"}],
            "legal_name": "Unreadable Name",
            "contact": "phone 3",
        },
    )
    work = app.app.state.svidok.work  # type: ignore[attr-defined]
    get = work.get

    def hiding(actor: Actor, case_id: str, record_id: str) -> Any:
        view = get(actor, case_id, record_id)
        if record_id != record.id:
            return view
        fields = {k: v for k, v in view.fields.items() if k != "legal_name"}
        return view.model_copy(update={"fields": fields, "hidden": ["legal_name"]})

    monkeypatch.setattr(work, "get", hiding)
    signed_in(app, "olena")
    page = app.get(f"/cases/REC-1/people/{record.id}/edit").text
    assert 'name="legal_name"' not in page and "Unreadable Name" not in page
    assert 'name="contact"' in page and "phone 3" in page  # what is readable stays editable
    assert 'id="protected-unshown"' in page
    data = form_fields(page)
    assert "legal_name" not in data
    data["description"] = "seen at the station"
    r = app.post(f"/cases/REC-1/people/{record.id}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:800]
    after = site.work.get(OPERATOR, site.case, record.id)
    assert after.fields["description"] == "seen at the station"
    assert after.fields["legal_name"] == "Unreadable Name"
    assert after.fields["contact"] == "phone 3"
    ledger = app.app.state.svidok.home.ledger  # type: ignore[attr-defined]
    entry = ledger.entry(ledger.size - 1)
    assert entry.type == "record.update"
    assert set(entry.data["changes"]) == {"description"}  # only what the form changed
