"""The web app's own pages (sign-in, cases, dashboard, items, item, preview, thumbnail,
upload page): access, escaping, CSRF, security headers, and evidence reads recorded."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from web_kit import OPERATOR, PASSWORD, add_users, auth_of, client, csrf_of, new_home, signed_in

from svidok.api import create_app
from svidok.api import items as api_items
from svidok.cases.access import Role
from svidok.cases.service import Casework, open_casework
from svidok.export import verify_package as vp
from svidok.home import Home
from svidok.intake.ingest import IngestOptions, ingest
from svidok.web import evidence

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
BIDI = "invoice\u202egpj.exe"


@dataclass
class Site:
    path: Path
    home: Home
    work: Casework
    case: str
    foreign: str
    photo: str  # item with a JPEG original
    photo_sha256: str
    text_item: str
    html_item: str  # an HTML original: never sent inline
    users: dict[str, str]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = new_home(tmp_path_factory, "web")
    tmp = path.parent
    home = Home.open(path)
    work = open_casework(home)
    auth = auth_of(path)
    users = add_users(work, auth, ("olena", "viktor", "stan", "ada"), admins=["ada"])
    case = work.create_case(OPERATOR, {"reference": "WEB-1", "title": "Case " + XSS}).id
    foreign = work.create_case(OPERATOR, {"reference": "OTHER-1", "title": "Other"}).id
    work.grant(OPERATOR, case, users["olena"], Role.OWNER)
    work.grant(OPERATOR, case, users["viktor"], Role.VIEWER)
    work.grant(OPERATOR, foreign, users["stan"], Role.OWNER)
    files = {"photo.jpg": _jpeg(), "note.txt": "Свідок: тест\n".encode() * 3,
             "page.html": b"<html><script>alert(1)</script></html>"}
    objects = {}
    for name, data in files.items():
        (tmp / name).write_bytes(data)
        report = ingest(home, [str(tmp / name)], IngestOptions(case=case, collector="op"))
        objects[name] = report.outcomes[0].object_id
    photo = work.create(OPERATOR, case, "item", {"title": XSS, "object": objects["photo.jpg"],
                                                 "item_kind": "photo", "tags": ["tag-a"]}).id
    text_item = work.create(OPERATOR, case, "item", {"title": BIDI, "object": objects["note.txt"],
                                                     "item_kind": "document"}).id
    html_item = work.create(OPERATOR, case, "item", {"title": "Saved page",
                                                     "object": objects["page.html"]}).id
    auth.close()
    try:
        yield Site(path, home, work, case, foreign, photo,
                   hashlib.sha256(files["photo.jpg"]).hexdigest(), text_item, html_item, users)
    finally:
        home.close()


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[TestClient]:
    with client(site.path) as c:
        yield c


def test_pages_need_a_session(app: TestClient, site: Site) -> None:
    app.cookies.clear()
    for url in ["/cases", "/cases/WEB-1", "/cases/WEB-1/items", f"/cases/WEB-1/items/{site.photo}",
                f"/cases/WEB-1/items/{site.photo}/preview", "/cases/WEB-1/upload"]:
        r = app.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next="), url


def test_sign_in_refuses_wrong_password_and_foreign_redirects(app: TestClient) -> None:
    app.cookies.clear()
    r = app.post("/signin", data={"username": "olena", "password": "nope", "next": "/cases"},
                 follow_redirects=False)
    assert r.status_code == 401 and "svidok_session" not in r.headers.get("set-cookie", "")
    r = app.post("/signin", data={"username": "ghost", "password": "nope"}, follow_redirects=False)
    assert r.status_code == 401
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil.example"]:
        r = app.post("/signin", data={"username": "olena", "password": PASSWORD, "next": target},
                     follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/cases", target
        app.cookies.clear()


def test_security_headers_on_pages(app: TestClient) -> None:
    r = signed_in(app, "olena").get("/cases")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert "<script>" not in r.text.replace('<script src="', "")


def test_session_cookie_flags(site: Site) -> None:
    with TestClient(create_app(site.path), base_url="https://127.0.0.1") as c:
        r = c.post("/signin", data={"username": "olena", "password": PASSWORD},
                   follow_redirects=False)
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
        assert "path=/" in cookie


def test_user_text_is_escaped_everywhere(app: TestClient, site: Site) -> None:
    c = signed_in(app, "olena")
    for url in ["/cases", "/cases/WEB-1", "/cases/WEB-1/items", f"/cases/WEB-1/items/{site.photo}",
                f"/cases/WEB-1/items/{site.text_item}"]:
        html = c.get(url).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
        assert "\u202e" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.get(f"/cases/WEB-1/items/{site.photo}").text
    assert "invoice\\u202egpj.exe" in c.get(f"/cases/WEB-1/items/{site.text_item}").text


def test_foreign_case_is_refused(app: TestClient, site: Site) -> None:
    c = signed_in(app, "stan")
    assert "WEB-1" not in c.get("/cases").text
    item = f"/cases/WEB-1/items/{site.photo}"
    for url in ["/cases/WEB-1", "/cases/WEB-1/items", item, f"{item}/preview",
                f"{item}/thumbnail", f"/cases/{site.case}/items", "/cases/NO-SUCH/items"]:
        r = c.get(url)
        assert r.status_code == 403, url
        assert "Case &lt;script&gt;" not in r.text


def _accesses(site: Site, record: str) -> list[str]:
    return [e.data["action"] for e in site.work.history(OPERATOR, site.case, record)
            if e.type == "access"]


def test_item_page_shows_hash_and_preview_is_recorded(app: TestClient, site: Site) -> None:
    c = signed_in(app, "viktor")
    html = c.get(f"/cases/WEB-1/items/{site.photo}").text
    assert site.photo_sha256 in html
    before = _accesses(site, site.photo)
    r = c.get(f"/cases/WEB-1/items/{site.photo}/preview")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(r.content).hexdigest() == site.photo_sha256
    assert r.headers["content-security-policy"].startswith("sandbox")
    assert _accesses(site, site.photo) == [*before, "view"]
    r = c.get(f"/cases/WEB-1/items/{site.photo}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(r.content)).size) <= 320
    assert _accesses(site, site.photo) == [*before, "view", "thumbnail"]
    assert "thumbnail" in c.get(f"/cases/WEB-1/items/{site.photo}").text  # in custody history


def test_a_cached_thumbnail_is_recorded_without_opening_the_original(
    app: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = signed_in(app, "viktor")
    url = f"/cases/WEB-1/items/{site.photo}/thumbnail"
    first = c.get(url).content  # made (or already cached) by now
    store = app.app.state.svidok.home.store  # type: ignore[attr-defined]
    opened: list[str] = []
    real = store.open_content

    def spy(object_id: str, logical_path: str) -> Any:
        opened.append(object_id)
        return real(object_id, logical_path)

    monkeypatch.setattr(store, "open_content", spy)
    before = _accesses(site, site.photo)
    r = c.get(url)
    assert r.status_code == 200 and r.content == first
    assert _accesses(site, site.photo) == [*before, "thumbnail"]
    assert opened == []


def test_unsafe_types_are_never_inline(app: TestClient, site: Site) -> None:
    c = signed_in(app, "olena")
    before = _accesses(site, site.html_item)
    r = c.get(f"/cases/WEB-1/items/{site.html_item}/preview")
    assert r.status_code == 404 and "<script>alert(1)</script></html>" not in r.text
    assert _accesses(site, site.html_item) == before
    r = c.get(f"/cases/WEB-1/items/{site.html_item}/thumbnail")
    assert r.status_code == 204


def test_text_preview_is_escaped_and_decoded(app: TestClient, site: Site) -> None:
    c = signed_in(app, "olena")
    r = c.get(f"/cases/WEB-1/items/{site.text_item}/text")
    assert r.status_code == 200 and "Свідок: тест" in r.text


def test_items_filters(app: TestClient, site: Site) -> None:
    c = signed_in(app, "olena")
    html = c.get("/cases/WEB-1/items?item_kind=photo").text
    assert site.photo in html and site.text_item not in html
    html = c.get("/cases/WEB-1/items?tag=tag-a").text
    assert site.photo in html and site.html_item not in html
    html = c.get("/cases/WEB-1/items?q=Saved").text
    assert site.html_item in html and site.photo not in html
    assert c.get("/cases/WEB-1/items?time_from=not-a-date").status_code in {200, 422}


def test_forms_need_the_csrf_token(app: TestClient, site: Site) -> None:
    c = signed_in(app, "olena")
    r = c.post("/cases", data={"reference": "NEW-1", "title": "New"})
    assert r.status_code == 403
    assert "NEW-1" not in c.get("/cases").text
    token = csrf_of(c.get("/cases").text)
    r = c.post("/cases", data={"reference": "NEW-2", "title": "New", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cases/NEW-2"
    r = c.post("/cases", data={"reference": "bad ref!", "title": "x", "csrf_token": token})
    assert r.status_code == 422 and "reference" in r.text


def test_assess_form_and_two_person_rule(app: TestClient, site: Site) -> None:
    c = signed_in(app, "olena")
    token = csrf_of(c.get(f"/cases/WEB-1/items/{site.html_item}").text)
    url = f"/cases/WEB-1/records/{site.html_item}/assess"
    r = c.post(url, data={"to": "in review", "rationale": "check", "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303
    r = c.post(url, data={"to": "verified", "rationale": "ok", "csrf_token": token})
    assert r.status_code == 403
    assert site.work.get(OPERATOR, site.case, site.html_item).assessment.value == "in review"


def test_language_switch_and_negotiation(app: TestClient) -> None:
    app.cookies.clear()
    r = app.get("/signin", headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"})
    assert '<html lang="uk">' in r.text
    r = app.post("/language", data={"lang": "en", "next": "/signin"}, follow_redirects=False)
    assert r.status_code == 303 and "svidok_lang=en" in r.headers["set-cookie"]
    r = app.post("/language", data={"lang": "en", "next": "https://evil.example"},
                 follow_redirects=False)
    assert r.headers["location"] == "/cases"


def test_sign_out_needs_csrf_and_ends_session(app: TestClient) -> None:
    c = signed_in(app, "olena")
    html = c.get("/cases").text
    r = c.post("/signout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert c.get("/cases", follow_redirects=False).status_code == 200
    r = c.post("/signout", data={"csrf_token": csrf_of(html)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/cases", follow_redirects=False).status_code == 303


def test_preview_sends_the_byte_ranges_asked_for(
    app: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Single byte ranges (a video seeks with them), read in several chunks from the store."""
    monkeypatch.setattr(api_items, "CHUNK", 7)  # ranges that span chunk boundaries
    c = signed_in(app, "viktor")
    url = f"/cases/WEB-1/items/{site.photo}/preview"
    whole = c.get(url)
    data, size = whole.content, len(whole.content)
    assert whole.status_code == 200 and hashlib.sha256(data).hexdigest() == site.photo_sha256
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(size)
    assert "content-range" not in whole.headers
    for asked, first, last in [
        ("bytes=0-99", 0, 99),  # the first bytes
        ("bytes=100-199", 100, 199),  # the middle
        ("bytes=-50", size - 50, size - 1),  # the last 50
        (f"bytes={size - 10}-", size - 10, size - 1),  # from a byte to the end
        (f"bytes=10-{size + 1000}", 10, size - 1),  # a last byte past the end is cut
        (f"bytes=-{size + 5}", 0, size - 1),  # a suffix longer than the file
        ("BYTES=3-3", 3, 3),  # one byte; the unit in any case
    ]:
        r = c.get(url, headers={"Range": asked})
        assert r.status_code == 206, asked
        assert r.headers["content-range"] == f"bytes {first}-{last}/{size}", asked
        assert r.headers["content-length"] == str(last - first + 1), asked
        assert r.content == data[first : last + 1], asked
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["content-security-policy"].startswith("sandbox")
    for asked in [f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"]:
        r = c.get(url, headers={"Range": asked})
        assert r.status_code == 416, asked
        assert r.headers["content-range"] == f"bytes */{size}" and not r.content
    for asked in ["bytes=abc", "items=0-9", "bytes=9-2", "bytes=0-1,4-5", "bytes=", "0-9"]:
        r = c.get(url, headers={"Range": asked})  # ignored: the whole file
        assert r.status_code == 200 and r.content == data, asked
    r = c.get(url, headers={"Range": "bytes=0-9", "If-Range": '"another-version"'})
    assert r.status_code == 200 and r.content == data  # the file changed: all of it
    r = c.get(url, headers={"Range": "bytes=0-9", "If-Range": whole.headers["etag"]})
    assert r.status_code == 206 and r.content == data[:10]


def test_preview_ranges_record_each_viewing_not_each_seek(app: TestClient, site: Site) -> None:
    url = f"/cases/WEB-1/items/{site.photo}/preview"
    c = signed_in(app, "viktor")
    before = _accesses(site, site.photo)
    assert c.get(url, headers={"Range": "bytes=0-"}).status_code == 206  # a viewing begins
    assert _accesses(site, site.photo) == [*before, "view"]
    for asked in ["bytes=500-", "bytes=-100", "bytes=200-299", "bytes=999999-"]:
        assert c.get(url, headers={"Range": asked}).status_code in {206, 416}  # seeking
    assert _accesses(site, site.photo) == [*before, "view"]
    assert c.get(url, headers={"Range": "bytes=0-"}).status_code == 206  # a reload
    assert c.get(url).status_code == 200  # the whole file
    assert _accesses(site, site.photo) == [*before, "view", "view", "view"]
    c = signed_in(app, "olena")  # another user's first request, even one that seeks
    assert c.get(url, headers={"Range": "bytes=300-"}).status_code == 206
    assert _accesses(site, site.photo) == [*before, "view", "view", "view", "view"]
    viewers = [e.actor for e in site.work.history(OPERATOR, site.case, site.photo)]
    assert viewers[-4:] == ["viktor", "viktor", "viktor", "olena"]
    c = signed_in(app, "stan")  # no role on the case: nothing sent, nothing recorded
    assert c.get(url, headers={"Range": "bytes=300-"}).status_code == 403
    assert len(_accesses(site, site.photo)) == len(before) + 4


def test_a_seek_after_the_view_window_is_recorded_again() -> None:
    recent: evidence.Recent[float] = evidence.Recent()
    assert evidence.view_is_recorded(recent, "u1", "item", 0, now=1000.0)
    assert not evidence.view_is_recorded(recent, "u1", "item", 500, now=1000.0 + 1)
    assert evidence.view_is_recorded(recent, "u2", "item", 500, now=1000.0 + 2)
    assert evidence.view_is_recorded(recent, "u1", "other", 500, now=1000.0 + 3)
    later = 1000.0 + evidence.VIEW_WINDOW
    assert evidence.view_is_recorded(recent, "u1", "item", 500, now=later)
    assert not evidence.view_is_recorded(recent, "u1", "item", 900, now=later + 1)
    assert evidence.view_is_recorded(recent, "u1", "item", 0, now=later + 2)


def _exports(app: TestClient) -> list[Any]:
    ledger = app.app.state.svidok.home.ledger  # type: ignore[attr-defined]
    return [e for e in ledger.iter_entries() if e.type == "export"]


def _export_form(c: TestClient, **values: str) -> dict[str, str]:
    token = csrf_of(c.get("/cases/WEB-1").text)
    return {"csrf_token": token, "recipient": "ICC OTP", "purpose": "Article 15 communication",
            "selection": "all", **values}


def test_export_page_downloads_a_package_that_checks_out(
    app: TestClient, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = site.work.create(OPERATOR, site.case, "incident", {"title": "Depot"}).id
    site.work.link(OPERATOR, site.case, "item-incident", site.photo, incident, "shows it")
    c = signed_in(app, "olena")
    assert 'href="/cases/WEB-1/export"' in c.get("/cases/WEB-1").text  # in the case's menu
    item_page = c.get(f"/cases/WEB-1/items/{site.photo}").text
    assert f'href="/cases/WEB-1/export?item={site.photo}"' in item_page
    page = c.get(f"/cases/WEB-1/export?incident={incident}")
    assert page.status_code == 200
    assert f'<option value="{incident}" selected>' in page.text
    assert 'name="include_protected"' in page.text and 'id="protected-warning"' in page.text
    assert "svidok verify-package" in page.text and "verify_package.py" in page.text
    vkey = (site.path / "keys" / "ledger.pub").read_text().strip()
    before = len(_exports(app))
    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setattr(app.app.state.svidok, "staging_dir", staging)  # type: ignore[attr-defined]
    for values, count in [
        ({"selection": "incident", "incident": incident}, 1),
        ({"selection": "query", "query": "Saved"}, 1),
        ({"selection": "item", "item": site.text_item}, 1),
        ({}, 3),
    ]:
        r = c.post("/cases/WEB-1/export", data=_export_form(c, **values))
        assert r.status_code == 200, r.text[:500]
        assert r.headers["content-type"] == "application/zip"
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment") and ".zip" in disposition
        package = tmp_path / f"package-{count}-{values.get('selection', 'all')}.zip"
        package.write_bytes(r.content)
        report = vp.verify(package, vkey)
        assert report.ok, report.problems
        assert report.facts["items"] == count, values
        assert report.facts["exported_by"] == "olena"
        assert report.facts["recipient"] == "ICC OTP"
    exports = _exports(app)[before:]
    assert len(exports) == 4 and all(e.actor == "olena" for e in exports)
    assert exports[0].data["recipient"] == "ICC OTP"
    assert exports[0].data["purpose"] == "Article 15 communication"
    assert exports[0].data["selection"]["incident"] == incident
    assert not any(e.data["protected_included"] for e in exports)
    assert not list(staging.iterdir())  # each package removed once sent


def test_export_form_says_what_is_wrong_and_records_nothing(app: TestClient, site: Site) -> None:
    c = signed_in(app, "olena")
    before = len(_exports(app))
    for values, words in [
        ({"selection": "query", "query": "no title has these words"}, "no items"),
        ({"selection": "query", "query": ""}, "Choose an incident"),
        ({"selection": "incident", "incident": "not-an-id"}, "Choose an incident"),
        ({"recipient": ""}, "Name the recipient"),
        ({"purpose": "  "}, "Name the recipient"),
    ]:
        r = c.post("/cases/WEB-1/export", data=_export_form(c, **values))
        assert r.status_code == 422, values
        assert words in r.text and 'id="form-error"' in r.text, values
    r = c.post("/cases/WEB-1/export", data={**_export_form(c), "csrf_token": "forged"})
    assert r.status_code == 403
    assert len(_exports(app)) == before


def test_export_is_for_owners_and_investigators_only(app: TestClient, site: Site) -> None:
    site.work.grant(OPERATOR, site.case, site.users["ada"], Role.ANALYST)
    before = len(_exports(app))
    for name in ("viktor", "ada"):  # a viewer, an analyst
        c = signed_in(app, name)
        for url in ["/cases/WEB-1", f"/cases/WEB-1/items/{site.photo}"]:
            assert 'href="/cases/WEB-1/export' not in c.get(url).text, (name, url)
        assert c.get("/cases/WEB-1/export").status_code == 403
        r = c.post("/cases/WEB-1/export", data=_export_form(c))
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    c = signed_in(app, "stan")  # no role on the case
    assert c.get("/cases/WEB-1/export").status_code == 403
    assert len(_exports(app)) == before


def test_item_page_says_what_became_of_the_previews(app: TestClient, site: Site) -> None:
    from svidok.derive.previews import make_previews

    c = signed_in(app, "viktor")
    assert "not made yet" in c.get(f"/cases/WEB-1/items/{site.photo}").text
    report = make_previews(site.home, "tester", objects=["sha256:" + site.photo_sha256])
    assert report.stored == 2, report
    html = c.get(f"/cases/WEB-1/items/{site.photo}").text
    state = re.search(r'id="previews-state">(.*?)</dd>', html, re.S)
    assert state and "made:" in state.group(1) and "thumbnail" in state.group(1)
    assert "not the evidence" in state.group(1)


def test_export_page_can_include_the_previews(app: TestClient, site: Site,
                                              tmp_path: Path) -> None:
    import zipfile

    from svidok.derive.previews import make_previews

    make_previews(site.home, "tester", objects=["sha256:" + site.photo_sha256])
    c = signed_in(app, "olena")
    assert 'name="include_previews"' in c.get("/cases/WEB-1/export").text
    r = c.post("/cases/WEB-1/export", data=_export_form(c, selection="item", item=site.photo,
                                                        include_previews="yes"))
    assert r.status_code == 200, r.text[:300]
    package = tmp_path / "with-previews.zip"
    package.write_bytes(r.content)
    names = zipfile.ZipFile(package).namelist()
    assert sum("/data/derivatives/" in n for n in names) == 2
    vkey = (site.path / "keys" / "ledger.pub").read_text().strip()
    assert vp.verify(package, vkey).ok
    assert _exports(app)[-1].data["derivatives"] == ["all"]


def test_a_pdf_or_video_shows_its_stored_thumbnail(app: TestClient, site: Site,
                                                   tmp_path: Path) -> None:
    from conftest import write_samples
    from svidok.derive.previews import make_previews

    samples = write_samples(tmp_path / "samples")
    report = ingest(site.home, [str(samples / "incident-report.pdf")],
                    IngestOptions(case=site.case, collector="op"))
    obj = str(report.outcomes[0].object_id)
    item = site.work.create(OPERATOR, site.case, "item", {
        "title": "Police report", "object": obj, "item_kind": "document"}).id
    c = signed_in(app, "olena")
    assert c.get(f"/cases/WEB-1/items/{item}/thumbnail").status_code == 204  # none yet
    assert f"/items/{item}/thumbnail" not in c.get("/cases/WEB-1/items").text
    make_previews(site.home, "tester", objects=[obj])
    r = c.get(f"/cases/WEB-1/items/{item}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(r.content)).size) <= 320
    assert f"/items/{item}/thumbnail" in c.get("/cases/WEB-1/items").text
