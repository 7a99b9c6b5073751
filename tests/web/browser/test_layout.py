"""Readable on a laptop and a phone: no page is wider than the window (a filter's long
choices, a long title or a table must wrap or shrink, never push the page sideways)."""

from __future__ import annotations

import pytest

from .conftest import CASE, Browse, Site

LAPTOP = (1280, 800)
PHONE = (390, 844)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_no_page_is_wider_than_the_window(
    browse: Browse, site: Site, viewport: tuple[int, int]
) -> None:
    page = browse.page("alice", viewport=viewport)
    pages = [
        "/cases",
        f"/cases/{CASE}",
        f"/cases/{CASE}/items",
        f"/cases/{CASE}/items/{site.items['bucha-street.jpg']}",
        f"/cases/{CASE}/upload",
        f"/cases/{CASE}/incidents",
        f"/cases/{CASE}/incidents/{site.records['incident']}",
        f"/cases/{CASE}/people",
        f"/cases/{CASE}/people/{site.records['person']}",
        f"/cases/{CASE}/places",
        f"/cases/{CASE}/sources",
        f"/cases/{CASE}/map",
        f"/cases/{CASE}/timeline",
        f"/cases/{CASE}/review",
        "/ledger",
        "/account",
    ]
    too_wide = {}
    for url in pages:
        page.goto(url)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > viewport[0]:
            too_wide[url] = width
    assert not too_wide, too_wide
