"""Alembic migrations, walked one revision at a time up and down with data in every table,
on SQLite and (with ``SVIDOK_TEST_PG_URL``) PostgreSQL.

Generic over the revisions: each new revision under ``catalog/migrations/versions`` is
walked as soon as it exists. At every step up, rows are written into every table (values
made from the reflected column types, foreign keys pointing at rows of the same step); at
every step, up or down, every row written before must still be there with the same values
in the columns that still exist. Then the schema at head must be the one in ``schema.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import svidok.catalog.db
from conftest import DIALECTS
from svidok.catalog import Catalog, schema

MIGRATIONS = Path(svidok.catalog.db.__file__).with_name("migrations")
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]  # table -> primary key -> row


def _script() -> ScriptDirectory:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def revisions() -> list[str]:
    """Every revision, oldest first (one line of history: a branch fails here)."""
    script = _script()
    assert len(script.get_heads()) == 1, f"migrations branch: heads {script.get_heads()}"
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def _alembic(engine: sa.Engine, verb: str, target: str) -> None:
    """As the data home does it (``Catalog.migrate``), SQLite's foreign keys handled."""
    catalog = Catalog(engine)
    if verb == "upgrade":
        catalog.migrate(target)
    else:
        catalog.downgrade(target)


def _current(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@pytest.fixture(params=DIALECTS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_catalog_url")
        assert url.startswith("postgresql")
    else:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    catalog = Catalog.connect(url)  # the real engine: SQLite pragmas (foreign keys on)
    try:
        yield catalog.engine
    finally:
        catalog.close()


_counter = itertools.count(1)


def _value(column: sa.Column[Any], n: int, step: int) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return n % 2 == 0
    if isinstance(kind, sa.BigInteger):
        return 2**40 + n  # beyond 32 bits: BIGINT on PostgreSQL, not INTEGER
    if isinstance(kind, sa.Integer):
        return n
    if isinstance(kind, sa.Float | sa.Numeric):
        return n + 0.5
    if isinstance(kind, sa.String):  # VARCHAR(n) and TEXT
        text = f"{n}-{column.name}-s{step}-Свідок ✓"
        if kind.length:
            text = text[: kind.length]
        return text
    raise AssertionError(f"no test value for {column.table.name}.{column.name}: {kind!r}")


def _insert_everywhere(engine: sa.Engine, rows: Rows, step: int) -> None:
    """Two rows in every table, parents first; foreign keys name this step's parent rows."""
    reflected = sa.MetaData()
    reflected.reflect(engine)
    made: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in reflected.sorted_tables:
            if table.name == "alembic_version" or table.name in schema.SEARCH_FTS_TABLES:
                continue  # FTS5's tables are written through its triggers only
            made[table.name] = []
            for i in range(2):
                row: dict[str, Any] = {}
                for column in table.columns:
                    fks = list(column.foreign_keys)
                    if fks:
                        target = fks[0].column
                        row[column.name] = made[target.table.name][i][target.name]
                    else:
                        row[column.name] = _value(column, next(_counter), step)
                conn.execute(table.insert(), [row])
                made[table.name].append(row)
                key = tuple(row[c.name] for c in table.primary_key.columns)
                rows.setdefault(table.name, {})[key] = row


def _check_kept(engine: sa.Engine, rows: Rows, where: str) -> None:
    """Every row written so far is there, in every table that still exists."""
    reflected = sa.MetaData()
    reflected.reflect(engine)
    with engine.connect() as conn:
        for name, written in rows.items():
            if name not in reflected.tables:
                continue
            table = reflected.tables[name]
            pk = [c.name for c in table.primary_key.columns]
            have = {
                tuple(r[c] for c in pk): r
                for r in (dict(m) for m in conn.execute(sa.select(table)).mappings())
            }
            for key, row in written.items():
                assert key in have, f"{where}: row {key!r} of {name} is gone"
                for column, value in row.items():
                    if column in have[key]:
                        assert have[key][column] == value, f"{where}: {name}.{column} changed"


def test_every_revision_up_and_down_with_data(engine: sa.Engine) -> None:
    revs = revisions()
    assert revs and revs[0] == "0001"
    rows: Rows = {}
    for step, rev in enumerate(revs):
        _alembic(engine, "upgrade", rev)
        assert _current(engine) == rev
        _check_kept(engine, rows, f"upgrade to {rev}")
        _insert_everywhere(engine, rows, step)
        _check_kept(engine, rows, f"after writing at {rev}")
    for rev in reversed(revs):
        _alembic(engine, "downgrade", "-1")
        _check_kept(engine, rows, f"downgrade from {rev}")
    assert _current(engine) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    rows = {}  # nothing survives base; the way up again must work on the emptied database
    for step, rev in enumerate(revs):
        _alembic(engine, "upgrade", rev)
        _check_kept(engine, rows, f"upgrade to {rev} again")
        _insert_everywhere(engine, rows, step)
    assert _current(engine) == revs[-1]


def test_head_is_the_schema_in_schema_py(engine: sa.Engine) -> None:
    _alembic(engine, "upgrade", "head")
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    # the search index (migration 0005): SQLite's FTS5 tables and
                    # PostgreSQL's expression index are not in schema.py
                    "include_name": lambda name, kind, _parent: not (
                        (kind == "table" and name in schema.SEARCH_FTS_TABLES)
                        or (kind == "index" and name == schema.SEARCH_PG_INDEX)
                    ),
                },
            ),
            schema.metadata,
        )
    assert diff == [], f"migrations and schema.py differ on {engine.dialect.name}: {diff}"


def test_catalog_migrate_is_idempotent(engine: sa.Engine) -> None:
    catalog = Catalog(engine)
    catalog.migrate()
    catalog.migrate()
    assert not catalog.needs_migration()
    assert catalog.applied() == 0


def test_head_constant_is_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from svidok.catalog import db

    cfg = Config()
    cfg.set_main_option("script_location", str(db._MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == db.HEAD


def test_a_home_of_an_earlier_version_is_migrated_when_opened(home_path: Path) -> None:
    from svidok.home import Home

    with Home.open(home_path) as h:
        h.catalog.downgrade("0001")
        assert not h.catalog.is_current()
    with Home.open(home_path) as h:
        assert h.catalog.is_current()
        assert "records" in h.catalog.dump()


def test_a_catalog_opened_in_the_background_is_migrated_on_first_use(home_path: Path) -> None:
    """Intake opens the catalog on a thread of its own (``catalog_in_background``): the
    first use waits for it and migrates it, also from a thread holding the ledger lock."""
    from svidok.home import Home

    with Home.open(home_path) as h:
        h.catalog.downgrade("0001")
    with Home.open(home_path, catalog_in_background=True) as h, h.ledger.locked():
        assert h.catalog.is_current()
        assert "records" in h.catalog.dump()
    with Home.open(home_path, catalog_in_background=True) as h:
        pass  # closed without being used: the opening is waited for and closed


def test_a_catalog_that_cannot_be_opened_in_the_background_fails_on_first_use(
    home_path: Path,
) -> None:
    from svidok.config import CONFIG_FILE, Config
    from svidok.home import Home

    toml = home_path / CONFIG_FILE
    url = Config.load(toml).catalog_url
    if url is None:  # SQLite in the home: not a database any more
        (home_path / "catalog.sqlite").write_bytes(b"not a database, " * 512)
    else:  # PostgreSQL (make test-pg): a server that is not there
        scheme = url.split("://", 1)[0]
        toml.write_text(toml.read_text().replace(url, f"{scheme}://svidok@127.0.0.1:9/gone"))
    with pytest.raises(Exception) as eager:
        Home.open(home_path)
    h = Home.open(home_path, catalog_in_background=True)
    for _ in range(2):  # the same error each time it is asked for
        with pytest.raises(type(eager.value)):
            h.catalog  # noqa: B018
    h.close()
