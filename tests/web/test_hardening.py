"""What a review of the web app found, each kept fixed: records dated at the ends of the
calendar do not break the timeline or an incident's page; stored text is shown with its
bidirectional overrides escaped on every page that shows it (not only some); a case
reference the web's addresses cannot carry is refused; an item's custody history starts
with its acquisition and shows the newest entries; the language switch keeps the page's
filters; the pages name their icon."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from web_kit import OPERATOR, add_users, auth_of, client, csrf_of, new_home, signed_in

from svidok.cases.access import Role
from svidok.cases.service import open_casework
from svidok.home import Home
from svidok.intake.ingest import IngestOptions, ingest
from svidok.web import records_kit

BIDI = "invoice\u202egpj.exe"
SHOWN = "invoice\\u202egpj.exe"
CASE = "HARD-1"


@dataclass
class Site:
    path: Path
    ids: dict[str, str] = field(default_factory=dict)
    acquisition: int = 0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = new_home(tmp_path_factory, "hardening")
    tmp = path.parent
    photo = tmp / "photo.jpg"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 160)).save(out, "JPEG")
    photo.write_bytes(out.getvalue())
    with Home.open(path) as home:
        work = open_casework(home)
        auth = auth_of(path)
        olga = add_users(work, auth, ["olga"], shown={"olga": "Olga " + BIDI})["olga"]
        auth.close()
        case = work.create_case(
            OPERATOR, {"reference": CASE, "title": "Case " + BIDI, "description": BIDI}
        ).id
        work.grant(OPERATOR, case, olga, Role.OWNER)
        report = ingest(home, [str(photo)], IngestOptions(case=case, collector="olga"))
        obj = report.outcomes[0].object_id
        assert obj is not None
        ids: dict[str, str] = {}
        ids["place"] = work.create(
            OPERATOR, case, "place", {"name": "Place " + BIDI, "lat": 50.5, "lon": 30.2}
        ).id
        ids["source"] = work.create(
            OPERATOR,
            case,
            "source",
            {"name": "Source " + BIDI, "source_type": "organisation", "reliability": "B"},
        ).id
        ids["item"] = work.create(
            OPERATOR,
            case,
            "item",
            {
                "title": "Photo",
                "object": obj,
                "description": "Seen\n" + BIDI,
                "tags": [BIDI],
                "source": ids["source"],
                "location": {"lat": 50.5, "lon": 30.2, "place": ids["place"]},
            },
        ).id
        for name, start in [("far", "9999-12-31"), ("early", "0001-01-01")]:
            ids[name] = work.create(
                OPERATOR,
                case,
                "incident",
                {"title": name, "time": {"start": start, "precision": "approximate"}},
            ).id
        work.link(OPERATOR, case, "item-incident", ids["item"], ids["far"], "role " + BIDI)
        work.assess(OPERATOR, case, ids["item"], "in review", "because " + BIDI)
        acquisition = work.evidence(OPERATOR, case, ids["item"]).acquisitions[0].entry
    yield Site(path, ids, acquisition)


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[TestClient]:
    with client(site.path) as c:
        yield signed_in(c, "olga")


def test_records_dated_at_the_ends_of_the_calendar_break_no_page(
    app: TestClient, site: Site
) -> None:
    ids = site.ids
    urls = [
        f"/cases/{CASE}/timeline",
        f"/cases/{CASE}/incidents",
        f"/cases/{CASE}/incidents/{ids['far']}",
        f"/cases/{CASE}/incidents/{ids['early']}",
        f"/cases/{CASE}/timeline?incident={ids['far']}",
        f"/cases/{CASE}/timeline?time_from=0001-01-01&time_to=9999-12-31",
        f"/cases/{CASE}/timeline?time_from=9999-12-31&time_to=0001-01-01",
    ]
    for claim in ["9999", "9999-12", "9999-12-31", "0001", "0001-01-01", "0001-01-01T00:00+14:00"]:
        urls.append(f"/cases/{CASE}/timeline?claim={claim.replace('+', '%2B')}")
    for url in urls:
        r = app.get(url)
        assert r.status_code == 200, (url, r.status_code)
    assert "far" in app.get(f"/cases/{CASE}/timeline").text


def test_bidi_overrides_are_escaped_wherever_stored_text_is_shown(
    app: TestClient, site: Site
) -> None:
    ids = site.ids
    # the case's title and description, the user's name, an item's description and tags,
    # its place and source, a link's role, an assessment's rationale, link choices
    for url in [
        "/cases",
        f"/cases/{CASE}",
        f"/cases/{CASE}/items",
        f"/cases/{CASE}/items/{ids['item']}",
        f"/cases/{CASE}/incidents/{ids['far']}",
        f"/cases/{CASE}/review",
    ]:
        html = app.get(url).text
        assert "\u202e" not in html, url
        assert SHOWN in html, url
    item = app.get(f"/cases/{CASE}/items/{ids['item']}").text
    for shown in [f"Case {SHOWN}", f"role {SHOWN}", f"because {SHOWN}", f"Place {SHOWN}"]:
        assert shown in item, shown


def test_a_reference_with_a_slash_is_refused(app: TestClient) -> None:
    token = csrf_of(app.get("/cases").text)
    r = app.post(
        "/cases",
        data={"reference": "A/B", "title": "Slash", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert "cannot contain" in r.text
    assert "A/B" not in app.get("/cases").text.split("<details")[0]
    app.cookies.set("svidok_lang", "uk")
    try:
        r = app.post("/cases", data={"reference": "C/D", "title": "S", "csrf_token": token})
        assert r.status_code == 422 and "не може містити" in r.text
    finally:
        app.cookies.delete("svidok_lang")


def test_custody_history_begins_with_the_acquisition_and_shows_the_newest(
    app: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/cases/{CASE}/items/{site.ids['item']}"
    custody = app.get(url).text.split('id="custody"')[1]
    first = re.search(r'class="entry-index">#(\d+)', custody)
    assert first and int(first.group(1)) == site.acquisition
    assert 'id="history-cut"' not in custody
    monkeypatch.setattr(records_kit, "HISTORY_SHOWN", 2)
    for _ in range(3):
        app.get(f"{url}/thumbnail")  # each one a recorded read
    custody = app.get(url).text.split('id="custody"')[1]
    shown = [int(n) for n in re.findall(r'class="entry-index">#(\d+)', custody)]
    assert shown[0] == site.acquisition and len(shown) == 3
    assert shown == sorted(shown)
    assert 'id="history-cut"' in custody
    newest = max(int(n) for n in re.findall(r"#(\d+)", app.get(f"/cases/{CASE}").text))
    assert shown[-1] == newest  # the latest read is in the history


def test_the_language_switch_keeps_the_filters(app: TestClient) -> None:
    html = app.get(f"/cases/{CASE}/items?tag=x&item_kind=photo").text
    assert f'name="next" value="/cases/{CASE}/items?tag=x&amp;item_kind=photo"' in html
    r = app.post(
        "/language",
        data={"lang": "en", "next": f"/cases/{CASE}/items?tag=x&item_kind=photo"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/cases/{CASE}/items?tag=x&item_kind=photo"


def test_pages_name_their_icon(app: TestClient) -> None:
    html = app.get("/signin").text
    icon = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', html)
    assert icon
    r = app.get(icon.group(1))
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    # a browser showing a document that is not a page (JSON) asks for /favicon.ico itself
    anonymous = TestClient(app.app, base_url="http://127.0.0.1")
    r = anonymous.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
