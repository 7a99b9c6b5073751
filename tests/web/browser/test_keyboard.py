"""The sign-in page by keyboard alone: the skip link comes first, then the form."""

from __future__ import annotations

from typing import Any

from .conftest import Browse

DESCRIBE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) { return "body"; }
  return e.tagName.toLowerCase() + (e.name ? "[name=" + e.name + "]" : "")
    + (e.className ? "." + String(e.className).split(" ").join(".") : "")
    + (e.type === "submit" ? ":submit:" + e.textContent.trim() : "");
}"""


def _focused(page: Any) -> str:
    return str(page.evaluate(DESCRIBE))


def test_skip_link_is_first_and_tab_reaches_the_form(browse: Browse) -> None:
    page = browse.page()
    page.goto("/signin")
    assert _focused(page) == "input[name=username]"  # autofocus: ready to type
    # Back from the user name to the start of the page: the skip link is the first stop,
    # and one more Shift+Tab leaves the page.
    backwards = []
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        backwards.append(_focused(page))
        if backwards[-1] == "body":
            break
    assert backwards[-2:] == ["a.skip", "body"], backwards
    assert page.locator("a.skip").is_visible()  # shown while it has the focus
    # From the top, Tab reaches the user name, the password and the sign-in button in order.
    forwards = []
    for _ in range(12):
        page.keyboard.press("Tab")
        forwards.append(_focused(page))
    assert forwards[0] == "a.skip", forwards
    wanted = ["input[name=username]", "input[name=password]", "button:submit:Sign in"]
    assert all(w in forwards for w in wanted), forwards
    assert [forwards.index(w) for w in wanted] == sorted(forwards.index(w) for w in wanted)
    # The skip link takes the focus to the page's content.
    page.locator("a.skip").focus()
    page.keyboard.press("Enter")
    assert _focused(page) == "main"
