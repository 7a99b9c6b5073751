"""What a review of the web app found, each kept fixed: records dated at the ends of the
calendar do not break the timeline or an incident's page."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from svidok.api import create_app
from svidok.auth.store import AuthStore
from svidok.cases.access import Actor, Role
from svidok.cases.service import open_casework
from svidok.home import Home
from svidok.intake.ingest import IngestOptions, ingest

OPERATOR = Actor.operator("operator")
PASSWORD = "correct horse battery staple"
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
    tmp = tmp_path_factory.mktemp("hardening")
    path = tmp / "home"
    Home.init(path, origin="svidok.test/hardening", actor="tester")
    photo = tmp / "photo.jpg"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 160)).save(out, "JPEG")
    photo.write_bytes(out.getvalue())
    with Home.open(path) as home:
        work = open_casework(home)
        auth = AuthStore.for_home(path)
        auth.migrate()
        olga = work.add_user(OPERATOR, "olga", "Olga " + BIDI, admin=False).id
        auth.set_password(UUID(olga), PASSWORD)
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
    with TestClient(create_app(site.path, secure_cookies=False), base_url="http://127.0.0.1") as c:
        r = c.post(
            "/signin",
            data={"username": "olga", "password": PASSWORD, "next": "/cases"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found
    return found.group(1)


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
