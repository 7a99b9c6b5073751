"""Fixtures of the auth tests: an auth store on SQLite, and on PostgreSQL when
``SVIDOK_TEST_PG_URL`` names a server (each test then gets a schema of its own).

Without the variable the PostgreSQL cases are not generated at all (not skipped); with
it, a server that cannot be reached fails the tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from svidok.auth import AuthPolicy, AuthStore
from svidok.protect import FieldCipher

PG_URL = os.environ.get("SVIDOK_TEST_PG_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def cipher() -> FieldCipher:
    return FieldCipher.generate()


@pytest.fixture()
def policy() -> AuthPolicy:
    return AuthPolicy()


@pytest.fixture()
def make_store(
    backend: str, tmp_path: Path, cipher: FieldCipher, policy: AuthPolicy
) -> Iterator[Callable[[], AuthStore]]:
    """Opens stores on one fresh database (SQLite file, or PostgreSQL schema); each call
    opens another store on the same database, as another process would."""
    opened: list[AuthStore] = []
    cleanup: list[Callable[[], None]] = []
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'auth.sqlite'}"

        def make() -> AuthStore:
            st = AuthStore.connect(url, cipher, policy)
            opened.append(st)
            return st

    else:
        assert PG_URL is not None
        schema = f"svidok_auth_test_{secrets.token_hex(6)}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        cleanup.append(drop)

        def make() -> AuthStore:
            eng = create_engine(PG_URL, hide_parameters=True)
            event.listen(eng, "connect", _search_path(schema))
            st = AuthStore(eng, cipher, policy)
            opened.append(st)
            return st

    try:
        yield make
    finally:
        for st in opened:
            st.close()
        for fn in cleanup:
            fn()


def _search_path(schema: str) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    return on_connect


@pytest.fixture()
def store(make_store: Callable[[], AuthStore]) -> AuthStore:
    st = make_store()
    st.migrate()
    return st


@pytest.fixture()
def engine(store: AuthStore) -> Engine:
    return store.engine
