"""The same records on SQLite and on the catalog these tests run with (PostgreSQL when
``SVIDOK_TEST_PG_URL`` is set, as in ``make test-pg``): hundreds of generated queries must
return the same result sets on both."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from search.kit import OPERATOR, World, build
from svidok.catalog import schema as s
from svidok.home import Home
from svidok.search.forms import extras
from svidok.search.normalise import variants, words
from svidok.search.service import Filters, search


def _world(path: Path, **kwargs: str) -> Iterator[tuple[Home, World]]:
    Home.init(path, origin="svidok.test/dialects", actor="tester", **kwargs)
    with Home.open(path) as home:
        yield home, build(home)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Home, World]]:
    path = tmp_path_factory.mktemp("sqlite") / "home"
    yield from _world(path, catalog_url=f"sqlite:///{path.parent / 'catalog.sqlite'}")


@pytest.fixture(scope="module")
def tested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Home, World]]:
    yield from _world(tmp_path_factory.mktemp("tested") / "home")


def _queries(home: Home) -> list[str]:
    with home.catalog.engine.connect() as conn:
        text = " ".join(conn.execute(select(s.search_docs.c.display)).scalars())
    running = words(text)
    vocabulary = sorted(set(running))
    vocabulary += sorted({v for w in vocabulary for v in variants(w)})
    vocabulary += sorted({x for w in vocabulary for x in extras(w)})  # lemmas, city names
    rng = random.Random(2022)
    out = []
    for _ in range(300):
        terms = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            word = rng.choice(vocabulary)
            shape = rng.random()
            if shape < 0.2 and len(word) > 3:
                terms.append(word[: rng.randint(2, len(word) - 1)] + "*")
            elif shape < 0.35:
                at = rng.randrange(len(running) - 1)
                terms.append(f'"{running[at]} {running[at + 1]}"')
            elif shape < 0.45:
                terms.append(word.upper())
            else:
                terms.append(word)
        out.append(" ".join(terms))
    return out


def _keys(world: tuple[Home, World], query: str, filters: Filters) -> set[str]:
    home, w = world
    names = {v: k for k, v in w.ids.items()}
    with home.catalog.engine.connect() as conn:
        return {names[h.record] for h in search(conn, OPERATOR, query, filters, limit=200).hits}


def test_both_catalogs_return_the_same_records(
    reference: tuple[Home, World], tested: tuple[Home, World]
) -> None:
    assert tested[0].catalog.engine.dialect.name in ("sqlite", "postgresql")
    assert reference[0].catalog.engine.dialect.name == "sqlite"
    queries = _queries(reference[0])
    nonempty = 0
    filters = [Filters(), Filters(kind="place"), Filters(near=(50.5, 30.2), radius_km=30),
               Filters(date_from="2022-03", date_to="2022-04-15")]
    for i, query in enumerate(queries):
        chosen = filters[i % len(filters)]
        expected = _keys(reference, query, chosen)
        assert _keys(tested, query, chosen) == expected, (query, chosen)
        nonempty += bool(expected)
    assert nonempty > 60, nonempty  # the queries do find things
