"""Word forms (pymorphy3 lemmas) and city names across languages (GeoNames), matched by
SQLite FTS5 exactly as the index does: real Ukrainian and Russian sentences with inflected
place and person names, and unrelated words that must not match."""

from __future__ import annotations

import sqlite3

import pytest

from svidok.search.forms import extras, lemmas
from svidok.search.normalise import MAX_POSITIONS, body
from svidok.search.query import parse
from svidok.search.snippet import snippet

DOCS = {
    "bucha": "Тіла цивільних знайшли у Бучі на вулиці Яблунській.",
    "yahidne": "Жителів утримували в підвалі школи в Ягідному майже місяць.",
    "kharkiv_uk": "Обстріл житлового кварталу в Харкові 1 березня.",
    "kharkov_ru": "Обстрел жилого квартала в Харькове, погибли мирные жители.",
    "kyiv_en": "Missile strike on an apartment block in Kiev, two killed.",
    "odesa_ru": "Удар по порту Одессы, повреждены зернохранилища.",
    "mykolaiv_en": "Shelling of the Nikolaev regional administration building.",
    "zaporizhzhia_uk": "Ракетний удар по Запоріжжю, зруйновано будинок.",
    "olena": "Свідка Олену допитали у Тарасом Шевченком підписаному протоколі.",
    "lviv": "Photo of the Lviv railway station during evacuation.",
}


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(key UNINDEXED, body, "
                 "tokenize='unicode61 remove_diacritics 0')")
    for key, text in DOCS.items():
        conn.execute("INSERT INTO t VALUES (?, ?)", (key, " ".join(body(text))))
    return conn


def _found(conn: sqlite3.Connection, query: str) -> set[str]:
    match = parse(query).fts5()
    return {str(r[0]) for r in conn.execute("SELECT key FROM t WHERE t MATCH ?", (match,))}


@pytest.mark.parametrize(("query", "expected"), [
    # word forms: the nominative finds the inflected word, and the other way round
    ("Буча", {"bucha"}), ("Bucha", {"bucha"}), ("Бучі", {"bucha"}), ("Бучею", {"bucha"}),
    ("Ягідне", {"yahidne"}), ("Yahidne", {"yahidne"}), ("Ягідному", {"yahidne"}),
    ("Олена", {"olena"}), ("Тарас", {"olena"}), ("Шевченко", {"olena"}),
    ("Яблунська", {"bucha"}), ("підвал", {"yahidne"}), ("школа", {"yahidne"}),
    ("обстрел", {"kharkov_ru"}), ("житель", {"kharkov_ru", "yahidne"}),
    # one city under its Ukrainian, Russian and English names
    ("Kharkiv", {"kharkiv_uk", "kharkov_ru"}), ("Kharkov", {"kharkiv_uk", "kharkov_ru"}),
    ("Харків", {"kharkiv_uk", "kharkov_ru"}), ("Харьков", {"kharkiv_uk", "kharkov_ru"}),
    ("Kyiv", {"kyiv_en"}), ("Київ", {"kyiv_en"}), ("Киев", {"kyiv_en"}), ("Kiev", {"kyiv_en"}),
    ("Odesa", {"odesa_ru"}), ("Одеса", {"odesa_ru"}), ("Odessa", {"odesa_ru"}),
    ("Mykolaiv", {"mykolaiv_en"}), ("Миколаїв", {"mykolaiv_en"}),
    ("Николаев", {"mykolaiv_en"}),
    ("Zaporizhzhia", {"zaporizhzhia_uk"}), ("Zaporozhye", {"zaporizhzhia_uk"}),
    ("Запорожье", {"zaporizhzhia_uk"}), ("Запоріжжя", {"zaporizhzhia_uk"}),
    ("Львів", {"lviv"}), ("Львов", {"lviv"}),
    # unrelated words and other cities stay out
    ("Ірпінь", set()), ("Irpin", set()), ("Херсон", set()), ("Kherson", set()),
    ("Бахмут", set()), ("столица", set()), ("Буковель", set()),
    ("я", set()), ("бучить", set()), ("Олег", set()), ("Буковина", set()),
    ("Харківщина", set()), ("Київська", set()),
    # phrases are exact word sequences; prefixes match spellings
    ('"у Бучі"', {"bucha"}), ('"у Буча"', set()), ("Бучі Яблунській", {"bucha"}),
    ("Буч*", {"bucha"}), ("Kharkov*", {"kharkov_ru", "kharkiv_uk"}),
])
def test_word_forms_and_city_names(fts: sqlite3.Connection, query: str,
                                   expected: set[str]) -> None:
    assert _found(fts, query) == expected


def test_lemmas() -> None:
    assert "буча" in lemmas("бучі")
    assert "харків" in lemmas("харкові")
    assert "київ" in lemmas("києві")
    assert "одеса" in lemmas("одесі")
    assert "харьков" in lemmas("харькове")
    assert lemmas("bucha") == ()  # Latin words have none
    assert "я" not in lemmas("мене")  # only nouns and the likeliest part of speech


def test_city_names_come_with_their_spellings() -> None:
    kharkiv = set(extras("харкові"))
    assert {"харків", "харьков", "kharkiv", "kharkov"} <= kharkiv
    assert {"kiev", "київ", "киев"} <= set(extras("kyiv"))
    assert not {"стол", "столица"} & set(extras("одеса"))  # nicknames are left out
    assert extras("school") == ()


def test_snippets_mark_inflected_and_renamed_words() -> None:
    text = "Обстріл житлового кварталу в Харкові 1 березня."
    marked = {seg.text for seg in snippet(text, parse("Kharkov").matchers()) if seg.match}
    assert marked == {"Харкові"}
    text = DOCS["bucha"]
    marked = {seg.text for seg in snippet(text, parse("Буча").matchers()) if seg.match}
    assert marked == {"Бучі"}


def test_the_body_never_passes_the_positions_postgresql_keeps() -> None:
    long = " ".join(f"слово{i} Бучі Харкові свідка{i}" for i in range(4000))
    terms = body(long)
    assert len(terms) <= MAX_POSITIONS
    assert "буча" in terms and "kharkov" in terms
