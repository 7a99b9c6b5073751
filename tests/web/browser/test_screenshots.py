"""Full-page screenshots of the main pages, written to docs/screenshots/ on every run so
they stay current (1280×800, and the item pages at phone size, 390×844). A page the app
does not serve yet (404) is left out with a warning. These run after the other browser
tests (see conftest.py) and are watched for console errors like every other page."""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image

from .conftest import CASE, SCREENSHOTS, Browse, Site, status_of

DESKTOP = (1280, 800)
PHONE = (390, 844)
ITEM = "bucha-street.jpg"


def _pages(site: Site) -> dict[str, str]:
    item = site.items[ITEM]
    return {
        "cases": "/cases",
        "case": f"/cases/{CASE}",
        "items": f"/cases/{CASE}/items",
        "item": f"/cases/{CASE}/items/{item}",
        "upload": f"/cases/{CASE}/upload",
        "incidents": f"/cases/{CASE}/incidents",
        "incident": f"/cases/{CASE}/incidents/{site.records['incident']}",
        "people": f"/cases/{CASE}/people",
        "person": f"/cases/{CASE}/people/{site.records['person']}",
        "map": f"/cases/{CASE}/map",
        "timeline": f"/cases/{CASE}/timeline",
        "review": f"/cases/{CASE}/review",
        "export": f"/cases/{CASE}/export",
        "duplicates": f"/cases/{CASE}/duplicates",
        "capture": f"/cases/{CASE}/capture",
        "search": "/search?q=Bucha",
        "ledger": "/ledger",
    }


def _settle(page: Any) -> None:
    """Wait until what the page loads by itself has arrived (pictures, map, fragments)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => Array.from(document.images).every(i => i.complete)"
        " && !document.querySelector('.geo-map:not(.leaflet-container)')"
    )
    page.evaluate("() => document.fonts.ready")


def _shoot(page: Any, name: str) -> None:
    """A full-page PNG, reduced to 256 colours (a third of the size; text stays sharp)."""
    _settle(page)
    shot = page.screenshot(full_page=True, animations="disabled", caret="hide")
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    assert len(image.getcolors(1 << 16) or range(1 << 16)) > 8, name  # something was drawn
    reduced = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    reduced.save(SCREENSHOTS / f"{name}.png", optimize=True)


def _visit(page: Any, name: str, url: str, missing: list[str]) -> bool:
    status = status_of(page, url)
    if status == 404:
        missing.append(f"{name} ({url})")
        return False
    assert status == 200, (url, status)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return True


def test_screenshots(browse: Browse, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    missing: list[str] = []

    page = browse.page(None, DESKTOP)
    page.goto("/signin")
    _shoot(page, "signin")

    page = browse.page("alice", DESKTOP)
    for name, url in _pages(site).items():
        if _visit(page, name, url, missing):
            _shoot(page, name)

    admin = browse.page("ada", DESKTOP)
    if _visit(admin, "admin", "/admin", missing):
        _shoot(admin, "admin")

    phone = browse.page("alice", PHONE)
    for name in ("items", "item"):
        if _visit(phone, name, _pages(site)[name], missing):
            _shoot(phone, f"{name}-phone")

    if missing:
        warnings.warn("no screenshot of pages not served yet: " + ", ".join(missing), stacklevel=1)
