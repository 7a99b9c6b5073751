"""The case map (Leaflet over the bundled country outline, no tile server configured) and
the timeline (server-drawn SVG)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import CASE, Browse, Site, status_of

GPS_PHOTOS = ["bucha-street.jpg", "irpin-bridge.jpg", "kharkiv-school.jpg"]


def _page_exists(page: Any, path: str) -> None:
    status = status_of(page, path)
    if status == 404:
        pytest.skip(f"{path} is not served yet (pages_geo.py)")
    assert status == 200, (path, status)


def test_map_draws_points_over_the_outline_without_tiles(browse: Browse, site: Site) -> None:
    page = browse.page("alice")
    _page_exists(page, f"/cases/{CASE}/map")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"/cases/{CASE}/map")

    container = page.locator("div.geo-map.leaflet-container")
    container.wait_for()
    markers = container.locator(".leaflet-overlay-pane path.leaflet-interactive")
    markers.nth(len(GPS_PHOTOS) - 1).wait_for()
    # one circle marker per located record: the GPS photos, the video, the place
    located = page.locator("#points tbody tr")
    assert markers.count() == located.count() >= len(GPS_PHOTOS)
    listed = page.locator("#points").inner_text()
    assert all(name in listed for name in GPS_PHOTOS), listed
    assert "no-gps-interior.jpg" not in listed

    # the bundled country borders are drawn (shapes out of view are empty paths "M0 0")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll(".leaflet-outline-pane path"))
            .filter(p => (p.getAttribute("d") || "").length > 20).length > 0"""
    )
    page.wait_for_load_state("networkidle")
    assert container.locator("img.leaflet-tile").count() == 0
    hosts = {urlsplit(url).netloc for url in requested if not url.startswith("data:")}
    assert hosts == {urlsplit(site.base).netloc}, hosts  # no tile (or any other) server

    # a marker opens a popup naming its record, as text
    box = markers.first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = container.locator(".leaflet-popup-content a")
    popup.wait_for()
    assert popup.get_attribute("href", timeout=1000).startswith(f"/cases/{CASE}/")


def test_timeline_draws_items_and_incidents(browse: Browse) -> None:
    page = browse.page("alice")
    _page_exists(page, f"/cases/{CASE}/timeline")
    page.goto(f"/cases/{CASE}/timeline")
    svg = page.locator("svg.geo-timeline")
    assert svg.is_visible()
    ticks = svg.locator("rect.tl-item")
    assert ticks.count() >= len(GPS_PHOTOS)
    titles = " ".join(ticks.locator("title").all_text_contents())
    assert all(name in titles for name in GPS_PHOTOS), titles
    assert svg.locator(".tl-incident").count() >= 1
    assert "Shelling of a residential street" in svg.inner_html()
    assert svg.locator("text.tl-axis-label").count() >= 2
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 50

    # a claim splits the items into before and after it
    page.get_by_label("Set a claim against the evidence").fill("2022-03-20")
    page.get_by_role("button", name="Show").click()
    result = page.locator("#claim-result")
    result.wait_for()
    after = page.locator("#claim-after").inner_text()
    assert "bucha-street.jpg" in after and "kharkiv-school.jpg" not in after
