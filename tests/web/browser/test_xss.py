"""Stored text is shown as text: a title made of HTML does not become markup, and a
right-to-left override (in a title, in a received file's name) is shown escaped instead of
reordering what follows. (Every page any test opens is also watched for CSP violations and
script errors.)"""

from __future__ import annotations

import re
from typing import Any

from .conftest import BIDI_NAME, BIDI_TITLE, CASE, XSS_TITLE, Browse, Site, status_of

#: the received file's name as intake recorded it (its own escaping), then shown
INTAKE_TITLE = BIDI_NAME.replace("\u202e", "\\u202e")
SHOWN_NAME = re.compile(r"^invoice\\+u202egpj\.exe$")
SHOWN_TITLE = BIDI_TITLE.replace("\u202e", "\\u202e")


def _no_markup_ran(page: Any, scope: str = "body") -> None:
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert "\u202e" not in page.locator(scope).inner_text()


def test_stored_html_is_shown_as_text(browse: Browse, site: Site) -> None:
    page = browse.page("alice")
    item, incident = site.items[XSS_TITLE], site.records["xss-incident"]
    person = site.records["xss-person"]
    page.goto(f"/cases/{CASE}/items/{item}")
    assert page.get_by_role("heading", level=1).inner_text() == XSS_TITLE
    assert page.locator("p.description").inner_text() == XSS_TITLE
    assert XSS_TITLE in page.title()
    assert f"{XSS_TITLE} — {XSS_TITLE}" in page.locator("#links").inner_text()  # link role
    _no_markup_ran(page)

    # every page that lists or shows these records shows the title as text
    shown_on = [
        f"/cases/{CASE}",
        f"/cases/{CASE}/items",
        f"/cases/{CASE}/items?q=onerror",
        f"/cases/{CASE}/incidents",
        f"/cases/{CASE}/incidents/{incident}",
        f"/cases/{CASE}/people",
        f"/cases/{CASE}/people/{person}",
        f"/cases/{CASE}/map",
        f"/cases/{CASE}/timeline",
    ]
    for url in shown_on:
        if status_of(page, url) == 404:
            continue  # a page not served yet (reported by the screenshots)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        if url != f"/cases/{CASE}":
            assert page.get_by_text(XSS_TITLE).count() >= 1, url
        _no_markup_ran(page)
    for url in [f"/cases/{CASE}/review", "/ledger"]:
        page.goto(url)
        _no_markup_ran(page)
    page.goto(f"/cases/{CASE}/items?tag=xss-probe")
    assert page.get_by_text(XSS_TITLE, exact=True).count() == 1


def test_bidi_overrides_are_shown_escaped(browse: Browse, site: Site) -> None:
    page = browse.page("alice")
    page.goto(f"/cases/{CASE}/items/{site.items[BIDI_TITLE]}")
    assert page.get_by_role("heading", level=1).inner_text() == SHOWN_TITLE
    _no_markup_ran(page)

    page.goto(f"/cases/{CASE}/items/{site.items[INTAKE_TITLE]}")
    assert SHOWN_NAME.match(page.get_by_role("heading", level=1).inner_text())
    original_name = page.locator("table.list code", has_text="gpj.exe").first.inner_text()
    assert SHOWN_NAME.match(original_name), original_name
    _no_markup_ran(page, "h1")
    _no_markup_ran(page, "#custody")

    page.goto(f"/cases/{CASE}/items")
    assert page.get_by_text(SHOWN_TITLE, exact=True).count() == 1
    assert page.get_by_text(SHOWN_NAME).count() == 1
    _no_markup_ran(page)


def test_received_file_path_is_shown_escaped(browse: Browse, site: Site) -> None:
    page = browse.page("alice")
    page.goto(f"/cases/{CASE}/items/{site.items[INTAKE_TITLE]}")
    _no_markup_ran(page)


def test_the_watch_sees_csp_violations_and_script_errors(browse: Browse) -> None:
    """The net under every test: markup that slipped through would be reported."""
    page = browse.page("alice")
    page.goto(f"/cases/{CASE}/items")
    page.evaluate(
        """() => {
            const img = document.createElement("img");
            img.setAttribute("onerror", "window.__xss = 1");
            img.src = "x";
            document.body.appendChild(img);
            const s = document.createElement("script");
            s.textContent = "window.__xss = 2";
            document.body.appendChild(s);
        }"""
    )
    page.wait_for_function("() => document.querySelector('img[src=\"x\"]').complete")
    page.evaluate("() => { setTimeout(() => { throw new Error('boom'); }, 0); }")
    page.wait_for_timeout(300)
    assert page.evaluate("() => typeof window.__xss") == "undefined"  # the CSP held
    seen = browse.watch.take()
    assert any("CSP violation: script-src" in p for p in seen), seen
    assert any("script error" in p and "boom" in p for p in seen), seen
