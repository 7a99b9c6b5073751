"""Search over a case in Ukrainian, Russian and English: cross-script matching, phrases,
prefixes, filters, permissions, protected fields, hostile queries, and the index kept with
the catalog (changes, rebuild, verify). With ``SVIDOK_TEST_PG_URL`` the same tests run with
the catalog on PostgreSQL and hold it to the same result sets as SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.kit import OPERATOR, World, build
from svidok.cases.access import AccessDenied, Actor
from svidok.errors import SearchError
from svidok.home import Home
from svidok.rebuild import rebuild
from svidok.search.service import Filters, Results, search
from svidok.verify import verify


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Home, World]]:
    path = tmp_path_factory.mktemp("search") / "home"
    Home.init(path, origin="svidok.test/search", actor="tester")
    with Home.open(path) as home:
        yield home, build(home)


def _find(home: Home, actor: Actor, query: str, filters: Filters | None = None,
          **kw: int) -> Results:
    with home.catalog.engine.connect() as conn:
        return search(conn, actor, query, filters or Filters(), **kw)


def _keys(world: tuple[Home, World], query: str, filters: Filters | None = None,
          actor: Actor | None = None) -> set[str]:
    home, w = world
    names = {v: k for k, v in w.ids.items()}
    found = _find(home, actor or w.viewer, query, filters, limit=200)
    assert found.total == len(found.hits)
    return {names[h.record] for h in found.hits}


CROSS_SCRIPT = [
    ("Bucha", {"bucha", "yablunska"}),
    ("Буча", {"bucha", "yablunska"}),
    ("bucha", {"bucha", "yablunska"}),
    ("Irpin", {"irpin", "photo"}),
    ("Ірпінь", {"irpin", "photo"}),
    ("Irpen", {"irpin", "photo"}),  # "в Ірпені": a word form of the same city
    ("Ирпень", {"irpin", "photo"}),
    ("Hostomel", {"hostomel", "airport"}),
    ("Gostomel", {"hostomel", "airport"}),
    ("Izium", {"izium"}),
    ("Izyum", {"izium", "report"}),  # "в Изюме", "под Изюмом"
    ("Изюм", {"izium", "report"}),
    ("Izyum*", {"izium", "report"}),
    ("Mariupol", {"mariupol", "report"}),
    ("Маріуполь", {"mariupol", "report"}),
    ("Kharkiv", {"kharkiv", "source", "report"}),  # the Russian name is the same city
    ("Kharkov", {"kharkiv", "source", "report"}),
    ("Харьков", {"kharkiv", "source", "report"}),
    ("Yahidne", {"yahidne_place", "yahidne"}),
    ("Ягідне", {"yahidne_place", "yahidne"}),  # "у Ягідному"
    ("Yahidn*", {"yahidne_place", "yahidne"}),
    ("Ягідн*", {"yahidne_place", "yahidne"}),
    ("Viacheslav", {"witness"}),
    ("Vyacheslav", {"witness"}),
    ("В'ячеслав", {"witness"}),
    ("Вячеслав", {"witness"}),
    ("вʼячеслав", {"witness"}),
    ("Pamiat", {"witness"}),
    ("Пам'ять", {"witness"}),
    ("Gorgany", set()),
    ("Київська", {"bucha"}),
    ("Kyivska", {"bucha"}),
    ("отчет", {"report"}),  # ё folded into е
    ("Отчёт", {"report"}),
    ("ЗРУЙНОВАНИЙ міст", {"photo"}),
    ('"Yablunska Street"', {"yablunska"}),
    ('"Street Yablunska"', set()),
    ('"Massovoe zakhoronenie"', {"report"}),
    ("Bucha Yablunska", {"yablunska"}),
    ("Bucha nothing", set()),
    ("bridge", {"photo"}),  # a tag
    ("corroborated", {"yahidne"}),  # a status
]


@pytest.mark.parametrize(("query", "expected"), CROSS_SCRIPT)
def test_latin_and_cyrillic_spellings_find_each_other(
    world: tuple[Home, World], query: str, expected: set[str]
) -> None:
    assert _keys(world, query) == expected


@pytest.mark.parametrize(
    "query", ["Гонта", "Григорій", "Hryhorii", "Sealedova", "Єлизавета", "380", "Contactname"]
)
def test_protected_fields_are_never_indexed(world: tuple[Home, World], query: str) -> None:
    assert _keys(world, query, actor=OPERATOR) == set()
    home, _w = world
    with home.catalog.engine.connect() as conn:
        from sqlalchemy import select

        from svidok.catalog import schema as s

        bodies = " ".join(conn.execute(select(s.search_docs.c.display)).scalars())
    assert "Гонта" not in bodies and "Sealedova" not in bodies and "svidok-enc" not in bodies


def test_only_cases_the_actor_may_read(world: tuple[Home, World]) -> None:
    _home, w = world
    assert _keys(world, "Буча", actor=w.outsider) == {"secret"}
    assert _keys(world, "Буча", actor=OPERATOR) == {"bucha", "yablunska", "secret"}
    assert _keys(world, "Буча", actor=Actor(name="nobody", user_id="0" * 36)) == set()
    scoped = Actor(name=w.owner.name, user_id=w.owner.user_id, cases=frozenset({w.other_case}))
    assert _keys(world, "Буча", actor=scoped) == set()  # a token scoped elsewhere
    with pytest.raises(AccessDenied):
        _keys(world, "Буча", Filters(case="UA-2022-SECRET"))
    with pytest.raises(AccessDenied):
        _keys(world, "Буча", Filters(case="no-such-case"))
    assert _keys(world, "Буча", Filters(case="ua-2022-kyiv")) == {"bucha", "yablunska"}


FILTERS = [
    (Filters(kind="place"), "ir*", {"irpin"}),
    (Filters(kind="item"), "ir*", {"photo"}),
    (Filters(kind="photo"), "", {"photo"}),
    (Filters(near=(50.54, 30.22), radius_km=5), "",
     {"bucha", "irpin", "hostomel", "photo", "yablunska"}),  # an incident by its place
    (Filters(near=(50.54, 30.22), radius_km=2), "", {"bucha", "yablunska"}),
    (Filters(near=(50.54, 30.22), radius_km=5, kind="place"), "Irpin", {"irpin"}),
    (Filters(near=(49.99, 36.23), radius_km=200), "", {"kharkiv", "izium"}),
    (Filters(date_from="2022-03-01", date_to="2022-03-10"), "", {"yahidne", "photo"}),
    (Filters(date_from="2022-03-31"), "", {"yahidne", "yablunska", "report"}),
    (Filters(date_to="2022-03"), "", {"yahidne", "photo"}),
    (Filters(status="corroborated"), "", {"yahidne"}),
    (Filters(status="unverified", kind="incident"), "", {"yahidne", "yablunska", "airport"}),
    (Filters(tag="bridge"), "", {"photo"}),
    (Filters(tag="east"), "Izium", {"izium"}),
    (Filters(tag="east"), "Bucha", set()),
    (Filters(grade="B"), "", {"source"}),
    (Filters(grade="b"), "", {"source"}),
    (Filters(grade="2"), "", {"photo"}),
]


@pytest.mark.parametrize(("filters", "query", "expected"), FILTERS)
def test_filters(
    world: tuple[Home, World], filters: Filters, query: str, expected: set[str]
) -> None:
    assert _keys(world, query, filters) == expected


@pytest.mark.parametrize(
    "query",
    ['"', '""', "NEAR(", "NEAR(a b)", "*", "-", ":", "a:b", "^Bucha", "body:Bucha", "Bucha OR",
     "NOT Bucha", "AND", "(", ")", "'", "''", "\\", "x" * 500, "Bu\x00cha", '"unclosed Bucha',
     "Bucha -Irpin", "' | 'x", "!!", "<->", "a & b", "%", "_", "\u202eBucha", "🙂", "ab*c*",
     "Bucha*" * 10],
)
def test_hostile_queries_give_results_or_a_clear_error(
    world: tuple[Home, World], query: str
) -> None:
    home, w = world
    try:
        found = _find(home, w.viewer, query)
    except SearchError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert found.total >= 0


@pytest.mark.parametrize(
    ("query", "filters", "message"),
    [
        ("x" * 10_000, Filters(), "too long"),
        ("", Filters(), "search for"),
        ("a*", Filters(), "at least 2"),
        (" ".join(f"w{i}" for i in range(30)), Filters(), "too many"),
        ("Bucha", Filters(near=(91, 0), radius_km=1), "latitude"),
        ("Bucha", Filters(near=(50, 30)), "radius"),
        ("Bucha", Filters(radius_km=3), "near"),
        ("Bucha", Filters(near=(50, 30), radius_km=-1), "radius"),
        ("Bucha", Filters(near=(50, 30), radius_km=float("nan")), "radius"),
        ("Bucha", Filters(date_from="March"), "ISO 8601"),
        ("Bucha", Filters(date_from="2022-04", date_to="2022-03"), "ends before"),
    ],
)
def test_bad_queries_and_filters_are_refused_in_words(
    world: tuple[Home, World], query: str, filters: Filters, message: str
) -> None:
    home, w = world
    with pytest.raises(SearchError, match=message):
        _find(home, w.viewer, query, filters)


def test_snippets_mark_the_matched_words_and_ranking_puts_better_first(
    world: tuple[Home, World],
) -> None:
    home, w = world
    found = _find(home, w.viewer, "Bucha")
    incident = next(h for h in found.hits if h.record == w.ids["yablunska"])
    assert ("Bucha", True) in [(s.text, s.match) for s in incident.snippet]
    place = next(h for h in found.hits if h.record == w.ids["bucha"])
    assert (place.snippet[0].text, place.snippet[0].match) == ("Буча", True)
    ranked = _find(home, w.viewer, "Yablunska")
    assert ranked.hits[0].record == w.ids["yablunska"]
    assert ranked.hits[0].score > 0
    page = _find(home, OPERATOR, "", Filters(kind="place"), limit=2, offset=2)
    assert page.total == 7 and len(page.hits) == 2


def test_the_index_follows_changes_and_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "home"
    Home.init(path, origin="svidok.test/search-changes", actor="tester")
    with Home.open(path) as home:
        w = build(home)
        key = (home, w)
        w.work.update(w.owner, w.case, w.ids["kharkiv"], {"name": "Чугуїв", "tags": ["moved"]})
        assert _keys(key, "Kharkiv") == {"source", "report"}
        assert _keys(key, "Chuhuiv") == {"kharkiv"}
        assert _keys(key, "moved") == {"kharkiv"}
        w.work.assess(w.owner, w.case, w.ids["irpin"], "in review", "coordinates checked")
        assert _keys(key, "", Filters(status="in review")) == {"irpin"}
        assert _keys(key, "Irpin", Filters(status="unverified")) == {"photo"}
        w.work.update(w.owner, w.case, w.ids["witness"], {"legal_name": "Прихований Свідок"})
        assert _keys(key, "Prykhovanyi", actor=OPERATOR) == set()
        before = {q: _keys(key, q, actor=OPERATOR) for q, _e in CROSS_SCRIPT}
        rebuild(home)
        after = {q: _keys(key, q, actor=OPERATOR) for q, _e in CROSS_SCRIPT}
        assert after == before
        report = verify(home)
        assert report.ok, report.problems


def test_a_tampered_index_is_made_right_by_rebuild(tmp_path: Path) -> None:
    from sqlalchemy import delete, update

    from svidok.catalog import schema as s

    path = tmp_path / "home"
    Home.init(path, origin="svidok.test/search-tamper", actor="tester")
    with Home.open(path) as home:
        w = build(home)
        key = (home, w)
        with home.catalog.engine.begin() as conn:
            conn.execute(update(s.search_docs)
                         .where(s.search_docs.c.record_id == w.ids["izium"])
                         .values(body="planted", display="planted", vec="'planted':1"))
            conn.execute(delete(s.search_docs).where(s.search_docs.c.record_id == w.ids["bucha"]))
        assert _keys(key, "planted") == {"izium"}
        assert verify(home).ok  # the index is not evidence: verify compares the ledger's tables
        rebuild(home)
        assert _keys(key, "planted") == set()
        assert _keys(key, "Bucha") == {"bucha", "yablunska"}


def test_many_matches_rank_the_newest_window_and_say_so(
    world: tuple[Home, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    import svidok.search.service as service

    home, w = world
    monkeypatch.setattr(service, "WINDOW", 3)
    found = _find(home, w.viewer, "", Filters(kind="place"))
    assert found.more and found.total == 3 and len(found.hits) == 3
    newest = [w.ids[k] for k in ("yahidne_place", "kharkiv", "mariupol")]
    assert [h.record for h in found.hits] == newest
    assert not _find(home, w.viewer, "Bucha").more


def test_a_catalog_from_before_search_is_indexed_when_migrated(tmp_path: Path) -> None:
    path = tmp_path / "home"
    Home.init(path, origin="svidok.test/search-migrate", actor="tester")
    with Home.open(path) as home:
        w = build(home)
        home.catalog.downgrade("0004")
    with Home.open(path) as home:  # migrated to the newest revision when opened
        assert home.catalog.is_current()
        assert _keys((home, w), "Bucha") == {"bucha", "yablunska"}
        assert _keys((home, w), "Гонта", actor=OPERATOR) == set()
