"""The map (its JSON points, precision circles, kinds) and the timeline (bars, ticks, a claim
set against the evidence's capture times): access, escaping, and where items fall."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_kit import OPERATOR, add_users, auth_of, client, new_home, signed_in

from svidok.cases.access import Role
from svidok.home import Home
from svidok.web.pages_geo import against, claim_interval, interval, span_interval

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
BIDI = "abc\u202eevil"


@dataclass
class Site:
    path: Path
    ids: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from svidok.cases.service import open_casework

    path = new_home(tmp_path_factory, "geo")
    with Home.open(path) as home:
        work = open_casework(home)
        auth = auth_of(path)
        users = add_users(work, auth, ("viktor", "stan"))
        auth.close()
        case = work.create_case(OPERATOR, {"reference": "GEO-1", "title": "Geo"}).id
        other = work.create_case(OPERATOR, {"reference": "GEO-2", "title": "Other"}).id
        work.grant(OPERATOR, case, users["viktor"], Role.VIEWER)
        work.grant(OPERATOR, other, users["stan"], Role.OWNER)
        ids: dict[str, str] = {}

        def make(name: str, kind: str, fields: dict[str, object]) -> None:
            ids[name] = work.create(OPERATOR, case, kind, fields).id

        make("place", "place", {"name": "Place " + XSS + BIDI, "lat": 50.5, "lon": 30.2})
        make("nowhere", "place", {"name": "No coordinates"})
        make(
            "incident",
            "incident",
            {
                "title": "Incident " + XSS + BIDI,
                "places": [ids["place"], ids["nowhere"]],
                "time": {"start": "2022-03-20", "end": "2022-03-31", "precision": "day"},
            },
        )
        make(
            "after",
            "item",
            {
                "title": "After " + XSS,
                "captured": {"start": "2022-03-31T09:15:00+03:00"},
                "location": {"lat": 50.51, "lon": 30.21, "precision_m": 40},
            },
        )
        make(
            "sameday",
            "item",
            {
                "title": "Same day " + BIDI,
                "captured": {"start": "2022-03-30", "precision": "day"},
                "location": {"lat": 50.52, "lon": 30.22},
            },
        )
        make("before", "item", {"title": "Before", "captured": {"start": "2022-03-28T12:00:00Z"}})
        make("undated", "item", {"title": "Undated"})
        make("foreign", "item", {"title": "Elsewhere", "captured": {"start": "2022-03-31"}})
        for item in ("after", "sameday", "before"):
            work.link(OPERATOR, case, "item-incident", ids[item], ids["incident"])
        work.create(OPERATOR, other, "place", {"name": "Secret place", "lat": 1.0, "lon": 2.0})
    yield Site(path, ids)


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[TestClient]:
    with client(site.path) as c:
        yield c


def no_raw(text: str) -> None:
    assert "<script>alert" not in text and "<img src=x" not in text and "\u202e" not in text


def test_map_json_points_precision_and_kinds(app: TestClient, site: Site) -> None:
    signed_in(app, "viktor")
    r = app.get("/cases/GEO-1/map.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    no_raw(r.text)
    points = r.json()["points"]
    by = {(p["kind"], p["id"]): p for p in points}
    after = by[("item", site.ids["after"])]
    assert (after["lat"], after["lon"], after["precision_m"]) == (50.51, 30.21, 40)
    assert after["url"] == f"/cases/GEO-1/items/{site.ids['after']}"
    assert after["label"].startswith("After <script>")  # the JSON decodes to the text itself
    assert by[("item", site.ids["sameday"])]["precision_m"] is None
    assert by[("item", site.ids["sameday"])]["label"] == "Same day abc\\u202eevil"
    place = by[("place", site.ids["place"])]
    assert (place["lat"], place["lon"]) == (50.5, 30.2)
    incident = by[("incident", site.ids["incident"])]
    assert (incident["lat"], incident["lon"]) == (50.5, 30.2)
    assert incident["url"] == f"/cases/GEO-1/incidents/{site.ids['incident']}"
    assert len(points) == 4  # no point for records without coordinates, nor other cases'
    assert "Secret place" not in r.text
    only = app.get("/cases/GEO-1/map.json?kinds=place").json()["points"]
    assert [p["kind"] for p in only] == ["place"]
    two = app.get("/cases/GEO-1/map.json?kinds=item&kinds=incident").json()["points"]
    assert {p["kind"] for p in two} == {"item", "incident"}


def test_map_page_lists_points_without_script(app: TestClient, site: Site) -> None:
    signed_in(app, "viktor")
    r = app.get("/cases/GEO-1/map")
    assert r.status_code == 200
    no_raw(r.text)
    assert 'id="case-map"' in r.text and 'type="application/json"' in r.text
    assert "vendor/leaflet/leaflet.js" in r.text and "map.js" in r.text
    assert "± 40 m" in r.text and f"/cases/GEO-1/items/{site.ids['after']}" in r.text
    assert "data-tiles" not in r.text  # no tiles configured: the outline only
    assert "<script>" not in r.text.split('type="application/json"')[1].split("</script>")[0]


def test_strangers_are_refused(app: TestClient, site: Site) -> None:
    signed_in(app, "stan")
    for url in [
        "/cases/GEO-1/map",
        "/cases/GEO-1/map.json",
        "/cases/GEO-1/timeline",
        "/cases/GEO-1/timeline?claim=2022-03-30",
    ]:
        r = app.get(url)
        assert r.status_code == 403, url
        assert "After" not in r.text and "Incident" not in r.text


def test_timeline_sets_a_claim_against_the_evidence(app: TestClient, site: Site) -> None:
    signed_in(app, "viktor")
    r = app.get("/cases/GEO-1/timeline?claim=2022-03-30")
    assert r.status_code == 200
    html = r.text
    no_raw(html)
    assert "<svg" in html and "tl-claim" in html and "tl-incident" in html
    after = html.split('id="claim-after"')[1].split("</ul>")[0]
    uncertain = html.split('id="claim-uncertain"')[1].split("</ul>")[0]
    assert site.ids["after"] in after and site.ids["foreign"] in after
    assert site.ids["sameday"] in uncertain and site.ids["sameday"] not in after
    assert site.ids["before"] not in after + uncertain
    counts = html.split('id="claim-counts"')[1].split("</dl>")[0]
    assert re.findall(r"<dd>(\d+)</dd>", counts) == ["2", "1", "1"]
    assert "Incident &lt;script&gt;" in html
    # a moment: the day-precision item is still uncertain; the one at 06:15 UTC is after
    html = app.get("/cases/GEO-1/timeline?claim=2022-03-30T18:00").text
    assert site.ids["sameday"] in html.split('id="claim-uncertain"')[1].split("</ul>")[0]


def test_timeline_filters(app: TestClient, site: Site) -> None:
    signed_in(app, "viktor")
    html = app.get(f"/cases/GEO-1/timeline?incident={site.ids['incident']}&claim=2022-03-30").text
    after = html.split('id="claim-after"')[1].split("</ul>")[0]
    assert site.ids["after"] in after and site.ids["foreign"] not in after  # linked only
    html = app.get("/cases/GEO-1/timeline?time_from=2022-03-29&time_to=2022-03-29").text
    assert site.ids["before"] not in html and site.ids["incident"] in html
    bad = app.get("/cases/GEO-1/timeline?claim=not-a-date")
    assert bad.status_code == 200 and "The claim is not a date or time" in bad.text


def test_intervals_respect_precision() -> None:
    day = interval("2022-03-30")
    assert day == (datetime(2022, 3, 30, tzinfo=UTC), datetime(2022, 3, 31, tzinfo=UTC))
    assert interval("2022-03-30T14:05:09+03:00") == (
        datetime(2022, 3, 30, 11, 5, 9, tzinfo=UTC),
        datetime(2022, 3, 30, 11, 5, 10, tzinfo=UTC),
    )
    assert interval("2022-03-30T14:05:09Z", "day") == day
    assert interval("2022-03", None) == (
        datetime(2022, 3, 1, tzinfo=UTC),
        datetime(2022, 4, 1, tzinfo=UTC),
    )
    assert interval("2022-12", "approximate") == (
        datetime(2022, 11, 1, tzinfo=UTC),
        datetime(2023, 2, 1, tzinfo=UTC),
    )
    assert span_interval({"start": "2022-03-01", "end": "2022-03-05", "precision": "day"}) == (
        datetime(2022, 3, 1, tzinfo=UTC),
        datetime(2022, 3, 6, tzinfo=UTC),
    )
    claim = claim_interval("2022-03-30")
    assert claim == day
    assert against(interval("2022-03-31T00:00:00Z") or day, claim) == "after"
    assert against(interval("2022-03-30T23:59:59Z") or day, claim) == "uncertain"
    assert against(interval("2022-03-29T23:59:59Z") or day, claim) == "before"
    moment = claim_interval("2022-03-30T12:00")
    assert moment is not None
    assert against(day, moment) == "uncertain"
    assert against(interval("2022-03-30T12:01:00Z") or day, moment) == "after"
    assert claim_interval("30 March") is None and claim_interval("2022-02-30") is None


def test_map_json_is_safe_to_embed() -> None:
    from svidok.web.pages_geo import json_for_script

    text = json_for_script({"label": XSS + BIDI})
    no_raw(text)
    assert json.loads(text) == {"label": XSS + BIDI}


def test_configured_tiles_reach_the_map_and_the_policy(tmp_path: Path) -> None:
    from svidok.cases.service import open_casework

    path = tmp_path / "home"
    Home.init(path, origin="svidok.test/tiles", actor="tester")
    config = path / "svidok.toml"
    text = config.read_text()
    assert "[web]\n" in text
    config.write_text(
        text.replace(
            "[web]\n",
            '[web]\ntiles = "https://tiles.example.org/{z}/{x}/{y}.png"\n'
            'tiles_attribution = "© Example <b>contributors</b>"\n',
            1,
        )
    )
    with Home.open(path) as home:
        work = open_casework(home)
        auth = auth_of(path)
        user = add_users(work, auth, ["viktor"])["viktor"]
        auth.close()
        case = work.create_case(OPERATOR, {"reference": "T-1", "title": "Tiles"}).id
        work.grant(OPERATOR, case, user, Role.VIEWER)
        work.create(OPERATOR, case, "place", {"name": "P", "lat": 1.5, "lon": 2.5})
    with client(path) as app:
        signed_in(app, "viktor")
        r = app.get("/cases/T-1/map")
        assert r.status_code == 200
        assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in r.text
        assert "© Example &lt;b&gt;contributors&lt;/b&gt;" in r.text
        assert "https://tiles.example.org" in r.headers["content-security-policy"]
