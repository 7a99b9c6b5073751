"""Someone with a role on another case only: every way into this case is refused, and the
case is not listed for them."""

from __future__ import annotations

from .conftest import CASE, FOREIGN, Browse, Site


def test_foreign_case_is_denied(browse: Browse, site: Site) -> None:
    page = browse.page("mallory")
    listed = page.locator("main").inner_text()
    assert FOREIGN in listed and CASE not in listed
    assert page.locator(f'a[href="/cases/{CASE}"]').count() == 0

    item = site.items["bucha-street.jpg"]
    pages = [
        f"/cases/{CASE}",
        f"/cases/{CASE}/items",
        f"/cases/{CASE}/items/{item}",
        f"/cases/{site.case_id}/items/{item}",
        f"/cases/{CASE}/items/{item}/preview",
        f"/cases/{CASE}/upload",
    ]
    with browse.watch.expecting(403, 404):
        for url in pages:
            response = page.goto(url)
            assert response is not None and response.status == 403, url
            assert page.get_by_role("heading", level=1).inner_text() == "Access denied", url
            assert "You have no access to this" in page.locator("main").inner_text(), url
            assert "bucha-street" not in page.content(), url
        original = f"/api/v1/cases/{site.case_id}/items/{item}/original"
        response = page.request.get(original)
        assert response.status in (403, 404), response.status
        assert response.json()["error"]["code"], response.text()
        assert response.headers.get("content-disposition") is None
        shown = page.goto(original)  # opened in the browser: an error, not a download
        assert shown is not None and shown.status == response.status
        assert '"error"' in page.locator("body").inner_text()

    # her own case still opens
    response = page.goto(f"/cases/{FOREIGN}/items/{site.foreign_item}")
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "bravo-photo.jpg"
