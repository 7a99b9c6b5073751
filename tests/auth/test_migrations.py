"""The auth store's Alembic migrations, walked one revision at a time up and down with data
in every table (as tests/catalog/test_migrations.py does for the catalog), on SQLite and
(with ``SVIDOK_TEST_PG_URL``) PostgreSQL. Generic over the revisions; then the one that
added ``must_change`` is checked for what it means: existing passwords stay ordinary."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import svidok.auth.store
from svidok.auth import AuthStore
from svidok.auth import _schema as s
from svidok.auth.passwords import hash_password

from .helpers import T0, USER_PASSWORD

MIGRATIONS = Path(svidok.auth.store.__file__).with_name("migrations")
VERSION_TABLE = "auth_alembic_version"
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]  # table -> primary key -> row


def revisions() -> list[str]:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, f"migrations branch: heads {script.get_heads()}"
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def _current(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


_counter = itertools.count(1)


def _value(column: sa.Column[Any], n: int, step: int) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return n % 2 == 0
    if isinstance(kind, sa.DateTime):
        return (T0 + timedelta(seconds=n)).replace(tzinfo=None)  # as SQLite gives it back
    if isinstance(kind, sa.BigInteger):
        return 2**40 + n
    if isinstance(kind, sa.Integer):
        return n
    if isinstance(kind, sa.String):  # VARCHAR(n) and TEXT
        text = f"{n}-{column.name}-s{step}"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no test value for {column.table.name}.{column.name}: {kind!r}")


def _tables(engine: sa.Engine) -> dict[str, sa.Table]:
    reflected = sa.MetaData()
    reflected.reflect(engine)
    return {n: t for n, t in reflected.tables.items() if n != VERSION_TABLE}


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


def _insert_everywhere(engine: sa.Engine, rows: Rows, step: int) -> None:
    with engine.begin() as conn:
        for name, table in _tables(engine).items():
            for _ in range(2):
                row = {c.name: _value(c, next(_counter), step) for c in table.columns}
                conn.execute(table.insert(), [row])
                key = tuple(row[c.name] for c in table.primary_key.columns)
                rows.setdefault(name, {})[key] = row


def _check_kept(engine: sa.Engine, rows: Rows, where: str) -> None:
    tables = _tables(engine)
    with engine.connect() as conn:
        for name, written in rows.items():
            if name not in tables:
                continue
            table = tables[name]
            pk = [c.name for c in table.primary_key.columns]
            have = {
                tuple(r[c] for c in pk): r
                for r in (dict(m) for m in conn.execute(sa.select(table)).mappings())
            }
            for key, row in written.items():
                assert key in have, f"{where}: row {key!r} of {name} is gone"
                for column, value in row.items():
                    if column in have[key]:
                        got = _normal(have[key][column])
                        assert got == _normal(value), f"{where}: {name}.{column} changed"


def test_every_revision_up_and_down_with_data(make_store: Callable[[], AuthStore]) -> None:
    store = make_store()
    revs = revisions()
    assert revs[:2] == ["auth0001", "auth0002"]
    rows: Rows = {}
    for step, rev in enumerate(revs):
        store.migrate(rev)
        assert _current(store.engine) == rev
        _check_kept(store.engine, rows, f"upgrade to {rev}")
        _insert_everywhere(store.engine, rows, step)
        _check_kept(store.engine, rows, f"after writing at {rev}")
    for rev in reversed(revs):
        store.downgrade("-1")
        _check_kept(store.engine, rows, f"downgrade from {rev}")
    assert _current(store.engine) is None
    assert not _tables(store.engine)
    store.migrate()
    assert not store.needs_migration()


def test_passwords_set_before_must_change_existed_stay_ordinary(
    make_store: Callable[[], AuthStore],
) -> None:
    store = make_store()
    store.migrate("auth0001")
    user = uuid4()
    with store.engine.begin() as conn:  # a row as version auth0001 wrote it
        conn.execute(
            sa.text(
                "INSERT INTO auth_credentials (user_id, password_hash, password_set, "
                "totp_secret, totp_enabled, totp_last_step) "
                "VALUES (:u, :h, :t, NULL, :f, NULL)"
            ),
            {
                "u": str(user),
                "h": hash_password(USER_PASSWORD),
                "t": T0.replace(tzinfo=None),
                "f": False,
            },
        )
    store.migrate()
    assert not store.must_change_password(user)
    accepted = store.check_password(user, USER_PASSWORD, client="192.0.2.1", now=T0)
    assert accepted.must_change is False
    store.set_password(user, USER_PASSWORD, must_change=True, now=T0)
    assert store.must_change_password(user)
    store.downgrade("auth0001")  # the column goes; the password stays
    with store.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns(s.credentials.name)}
        assert "must_change" not in columns
        assert conn.execute(sa.text("SELECT count(*) FROM auth_credentials")).scalar() == 1
