"""Signing in and out in the browser, and reaching the sign-in form by keyboard."""

from __future__ import annotations

from typing import Any

from .conftest import PASSWORD, Browse, sign_in


def _session_cookies(page: Any) -> list[Any]:
    return [c for c in page.context.cookies() if c["name"] == "svidok_session"]


def test_wrong_password_is_refused_and_starts_no_session(browse: Browse) -> None:
    page = browse.page()
    with browse.watch.expecting(401):
        sign_in(page, "alice", "not the password")
        alert = page.get_by_role("alert")
        assert "was not accepted" in alert.inner_text()
    assert page.url.endswith("/signin")
    assert _session_cookies(page) == []
    assert page.get_by_label("User name").input_value() == "alice"
    assert page.get_by_label("Password", exact=True).input_value() == ""
    page.goto("/cases")  # still signed out: sent back to the sign-in form
    assert "/signin?next=" in page.url
    assert page.get_by_role("heading", name="Sign in").is_visible()


def test_right_password_reaches_cases_and_sign_out_ends_the_session(browse: Browse) -> None:
    page = browse.page()
    sign_in(page, "alice", PASSWORD)
    page.wait_for_url("**/cases")
    assert page.get_by_role("link", name="ALPHA-1").first.is_visible()
    assert len(_session_cookies(page)) == 1
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    assert _session_cookies(page) == []
    page.goto("/cases")
    assert "/signin?next=" in page.url
    assert page.get_by_role("heading", name="Sign in").is_visible()
