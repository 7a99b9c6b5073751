"""Terms and the query language: normalisation, transliteration variants, and queries
that can only ever reach FTS5 and tsquery as quoted terms (checked on arbitrary text)."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.errors import SearchError
from svidok.search.normalise import MAX_TERM, MAX_WORDS, body, variants, words
from svidok.search.query import parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Буча, Ірпінь!", ["буча", "ірпінь"]),
        ("В'ячеслав Пам’ять вʼїзд", ["вячеслав", "память", "вїзд"]),
        ("ЙОСИП Їжак Ґанок Єва", ["йосип", "їжак", "ґанок", "єва"]),
        ("Соловьёв", ["соловьев"]),
        ("Café Ürümqi Straße", ["cafe", "urumqi", "strasse"]),
        ("ﬁle Ｂｕｃｈａ", ["file", "bucha"]),
        ("a_b-c d.e", ["a", "b", "c", "d", "e"]),
        ("x" * 100, ["x" * MAX_TERM]),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("буча", ("bucha",)),
        ("харків", ("kharkiv",)),
        ("харьков", ("kharkov",)),
        ("ізюм", ("izium", "izyum")),
        ("ягідне", ("yahidne", "yagidne")),
        ("київ", ("kyiv", "kiiv")),
        ("bucha", ()),
    ],
)
def test_variants(term: str, expected: tuple[str, ...]) -> None:
    assert variants(term) == expected


def test_body_has_the_words_then_each_latin_spelling() -> None:
    assert body("Місто Ізюм") == ["місто", "ізюм", "misto", "izium", "misto", "izyum"]
    assert body("Bucha only") == ["bucha", "only"]
    assert len(body("слово " * (MAX_WORDS + 100))) == 2 * MAX_WORDS


def test_query_forms() -> None:
    q = parse('Буча "Yablunska Street" ірп* -x NEAR(')
    assert q.fts5() == ('("буча" OR "bucha") AND ("yablunska street") AND '
                        '("ірп" * OR "irp" *) AND ("x") AND ("near")')
    assert q.tsquery() == ("(('буча') | ('bucha')) & (('yablunska' <-> 'street')) & "
                           "(('ірп':*) | ('irp':*)) & (('x')) & (('near'))")
    assert not parse(' " :: * - ')
    with pytest.raises(SearchError, match="too long"):
        parse("x" * 501)


_FTS = sqlite3.connect(":memory:")
_FTS.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61 remove_diacritics 0')")
_FTS.execute("INSERT INTO t(body) VALUES ('буча bucha yablunska street')")
_LEXEME = re.compile(r"'[^\W_]+'(:\*)?")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_a_valid_query_or_a_clear_error(text: str) -> None:
    try:
        q = parse(text)
    except SearchError as exc:
        assert str(exc)
        return
    if not q:
        return
    _FTS.execute("SELECT count(*) FROM t WHERE t MATCH ?", (q.fts5(),)).fetchone()
    leftover = _LEXEME.sub("", q.tsquery())
    assert set(leftover) <= set("()|&<-> ")
