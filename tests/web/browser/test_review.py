"""Review by two people: the one who puts an item in review cannot also verify it; a
second reviewer can, with a rationale, and both assessments are shown."""

from __future__ import annotations

from typing import Any

from .conftest import CASE, Browse, Site


def _assess(page: Any, to: str, rationale: str) -> Any:
    """Submit the item page's assessment form; the response shown after it (the POST's own
    when it was refused, else the page it redirected to)."""
    form = page.locator("form.assess-form")
    form.get_by_label("New status").select_option(to)
    form.get_by_label("Rationale").fill(rationale)
    with page.expect_navigation() as answer:
        form.get_by_role("button", name="Record assessment").click()
    return answer.value


def _said(page: Any) -> str:
    """The page's text apart from the assessment form (whose note names the rule too)."""
    return str(
        page.evaluate(
            """() => { const main = document.querySelector("main").cloneNode(true);
            main.querySelectorAll("form.assess-form").forEach(f => f.remove());
            return main.textContent; }"""
        )
    )


def test_two_person_verification(browse: Browse, site: Site) -> None:
    url = f"/cases/{CASE}/items/{site.items['bucha-street.jpg']}"
    alice = browse.page("alice")
    alice.goto(url)
    status = alice.locator("#assessment-status")
    assert status.inner_text() == "unverified"
    _assess(alice, "in review", "Ready for a second look: EXIF time matches the report.")
    alice.wait_for_url(f"**{url}")
    assert status.inner_text() == "in review"

    with browse.watch.expecting(403):
        refused = _assess(alice, "verified", "I checked it myself.")
    assert refused.status == 403 and refused.request.method == "POST"
    assert alice.get_by_role("heading", level=1).inner_text() == "Access denied"
    assert "verification needs a second reviewer" in _said(alice).lower()
    alice.goto(url)
    assert status.inner_text() == "in review"
    assert alice.locator("ol.assessments li").count() == 1

    bob = browse.page("bob")
    bob.goto(url)
    _assess(bob, "verified", "Shadows and street signs match the capture time and place.")
    bob.wait_for_url(f"**{url}")
    assert bob.locator("#assessment-status").inner_text() == "verified"
    shown = [t.strip() for t in bob.locator("ol.assessments li").all_inner_texts()]
    assert len(shown) == 2, shown
    assert "alice" in shown[0] and "in review" in shown[0] and "EXIF time" in shown[0]
    assert "bob" in shown[1] and "verified" in shown[1] and "street signs" in shown[1]
    alice.reload()
    assert status.inner_text() == "verified"
