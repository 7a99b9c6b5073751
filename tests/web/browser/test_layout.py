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


LONG_TITLE = (
    "Shelling of the residential quarter between Vokzalna and Yablunska streets near the "
    "Kyiv-Sviatoshynskyi district administration, reported by neighbours, municipal "
    "workers and the regional prosecutor's office"
)
#: finds words (split at spaces and hyphens) whose letters are drawn on more than one line
_SPLIT_WORDS = """
(cells) => {
  const split = [];
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[^\\s\\-\\u2010]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
        if (lines.size > 1) split.push(m[0]);
      }
    }
  }
  return split;
}
"""


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_long_titles_wrap_between_words_and_tags_keep_their_size(
    browse: Browse, site: Site, viewport: tuple[int, int]
) -> None:
    work, alice = site.state.work, site.actor("alice")
    if not site.records.get("long-incident"):
        site.records["long-incident"] = work.create(
            alice,
            site.case_id,
            "incident",
            {"title": LONG_TITLE, "time": {"start": "2022-03-09", "precision": "day"}},
        ).id
        site.records["tagged-item"] = work.create(
            alice,
            site.case_id,
            "item",
            {"title": "Tagged note", "item_kind": "document", "tags": ["roof", "day 2"]},
        ).id
    page = browse.page("alice", viewport=viewport)
    page.goto(f"/cases/{CASE}/incidents")
    assert page.get_by_text(LONG_TITLE).count() == 1
    split = page.locator("#incidents td").evaluate_all(_SPLIT_WORDS)
    assert not split, split
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport[0]
    page.goto(f"/cases/{CASE}/items?q=Tagged")
    card = page.locator("li.card").filter(has_text="Tagged note")
    card_width = card.bounding_box()["width"]
    for tag in ("roof", "day 2"):
        width = card.locator(".tag", has_text=tag).bounding_box()["width"]
        assert width < card_width / 2, (tag, width, card_width)  # not stretched across
