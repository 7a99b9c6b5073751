"""An item's page: the SHA-256 of its original, its custody history (the intake, each view
and each download recorded), and a download that yields the exact bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import CASE, Browse, Site, sha256_of

PHOTO = "kharkiv-school.jpg"


def _custody(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#custody li").all_inner_texts()]


def test_item_page_shows_hash_custody_and_downloads_the_exact_bytes(
    browse: Browse, site: Site
) -> None:
    record = site.items[PHOTO]
    page = browse.page("alice")
    page.goto(f"/cases/{CASE}/items/{record}")
    assert page.get_by_role("heading", level=1).inner_text() == PHOTO
    assert page.locator("#sha256").inner_text().strip() == site.sha256[PHOTO]
    # how the original was acquired, and the entry that made the item of it
    provenance = page.locator("table.list").filter(has_text="Collector").locator("tbody tr")
    assert provenance.count() == 1
    acquired = provenance.first.inner_text()
    assert "alice" in acquired and "browser tests" in acquired and PHOTO in acquired, acquired
    entries = _custody(page)
    assert any("record.create" in e and "alice" in e for e in entries), entries

    # the picture is shown from /preview, which records a view before sending it
    preview = page.locator("img.preview-image")
    preview.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )
    page.reload()
    entries = _custody(page)
    views = [e for e in entries if "access" in e and "view" in e and "alice" in e]
    assert views, entries
    downloads_before = [e for e in entries if "download" in e]

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the original").click()
    download = info.value
    assert download.failure() is None
    data = Path(download.path()).read_bytes()
    assert sha256_of(data) == site.sha256[PHOTO]

    page.reload()
    entries = _custody(page)
    downloads = [e for e in entries if "access" in e and "download" in e and "alice" in e]
    assert len(downloads) == len(downloads_before) + 1, entries
