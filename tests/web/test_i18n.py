"""The interface in English and Ukrainian: every message in the templates and the web
code has a Ukrainian translation with the same placeholders, and every stored English
value that pages translate (statuses, kinds, roles) is marked for translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from svidok.cases._records import TRANSITIONS
from svidok.cases.access import Role
from svidok.cases.fields import (
    CaseStatus,
    IncidentStatus,
    ItemKind,
    PersonStatus,
    Precision,
    Sex,
    SourceType,
)
from svidok.cases.views import AssessmentStatus
from svidok.web import i18n
from svidok.web.vocabulary import WORDS

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{\w*\}")


def _extracted() -> set[str]:
    method_map = [
        ("src/svidok/web/**.py", "python"),
        ("src/svidok/web/templates/**.html", "jinja2"),
    ]
    options = {"src/svidok/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "N_": None, "gettext": None,
                                                   "ngettext": (1, 2)}
    ):
        if isinstance(message, tuple):  # a plural: the catalog keys it by its singular
            found.add(message[0])
        elif message:
            found.add(message)
    return found


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    path = i18n.LOCALE_DIR / "uk" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale="uk")


def test_babel_config_names_the_same_places() -> None:
    text = (ROOT / "babel.cfg").read_text()
    assert "[python: src/svidok/web/**.py]" in text
    assert "[jinja2: src/svidok/web/templates/**.html]" in text


def test_every_message_is_translated_to_ukrainian(catalog) -> None:  # type: ignore[no-untyped-def]
    messages = _extracted()
    assert len(messages) > 100  # the extraction itself works
    missing, fuzzy, mismatched = [], [], []
    for msgid in sorted(messages):
        entry = catalog.get(msgid)
        if entry is None or not entry.string:
            missing.append(msgid)
            continue
        if entry.fuzzy:
            fuzzy.append(msgid)
        translated = entry.string if isinstance(entry.string, str) else entry.string[0]
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(translated)):
            mismatched.append(msgid)
    assert not missing, f"{len(missing)} messages lack a Ukrainian translation: {missing[:20]}"
    assert not fuzzy, f"fuzzy translations: {fuzzy[:20]}"
    assert not mismatched, f"placeholders differ: {mismatched[:20]}"


def test_stored_values_are_marked_for_translation() -> None:
    values = {
        *(s.value for s in CaseStatus),
        *(k.value for k in ItemKind),
        *(a.value for a in AssessmentStatus),
        *(s.value for s in IncidentStatus),
        *(s.value for s in PersonStatus),
        *(s.value for s in Sex),
        *(r.value for r in Role),
        *(p.value for p in Precision),
        *(t.value for t in SourceType),
        *TRANSITIONS,
    }
    assert values <= set(WORDS), sorted(values - set(WORDS))


def test_ukrainian_pages_are_served_in_ukrainian(catalog) -> None:  # type: ignore[no-untyped-def]
    i18n.set_language("uk")
    try:
        assert i18n.gettext_("Sign in") == catalog.get("Sign in").string
        assert i18n.gettext_("Sign in") != "Sign in"
    finally:
        i18n.set_language("en")
    assert i18n.gettext_("Sign in") == "Sign in"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        ("uk", "en", "uk"),
        (None, "uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        (None, "de-DE,de;q=0.9", "en"),
        (None, "en-GB,uk;q=0.3", "en"),
        ("xx", "garbage;;q=zz,", "en"),
        (None, None, "en"),
    ],
)
def test_language_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, header) == expected
