"""Shared fixtures: a fresh data home and helpers to build evidence trees.

The catalog database: SQLite in each data home, unless ``SVIDOK_TEST_PG_URL`` names a
PostgreSQL server (``postgresql+psycopg://svidok@127.0.0.1:5433/postgres``, a role that may
create databases): then every data home the tests create, in this process (``Home.init``) or
in a subprocess (``svidok init``, through ``$SVIDOK_CATALOG_URL``), gets a fresh database
``svidok_t_<random>`` of its own, dropped once the test (or module) that made it is done.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import random
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url

from svidok.config import ENV_CATALOG_URL
from svidok.home import Home
from svidok.intake.ingest import IngestOptions, IngestReport, ingest

OPTIONS = IngestOptions(case="bucha-2022", collector="Olena Test", source="test suite")
ENV_TEST_PG_URL = "SVIDOK_TEST_PG_URL"
PG_URL = os.environ.get(ENV_TEST_PG_URL) or None
#: Dialects the dialect-parametrised tests run on: PostgreSQL only when a server is given
#: (never a skip: under CI a skip is a failure).
DIALECTS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


class PgDatabases:
    """Fresh PostgreSQL databases for data homes, one each; all dropped at the end.

    ``$SVIDOK_CATALOG_URL`` always names an unused database (the *spare*), so a
    ``svidok init`` in a subprocess takes it; ``take`` hands it to an in-process
    ``Home.init`` and makes a new spare.
    """

    def __init__(self, url: str) -> None:
        import psycopg

        self.base = make_url(url)
        if self.base.get_backend_name() != "postgresql":
            raise pytest.UsageError(f"{ENV_TEST_PG_URL} must be a postgresql+psycopg:// URL")
        self.admin = psycopg.connect(self._conninfo(self.base), autocommit=True)
        self.created: list[str] = []
        self.used: list[str] = []  # used since the last ``claim``
        self.spare = self._create()
        os.environ[ENV_CATALOG_URL] = self.url(self.spare)

    @staticmethod
    def _conninfo(url: URL) -> str:
        return url.set(drivername="postgresql").render_as_string(hide_password=False)

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _create(self) -> str:
        name = f"svidok_t_{secrets.token_hex(6)}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def _is_used(self, name: str) -> bool:
        import psycopg

        with psycopg.connect(self._conninfo(self.base.set(database=name))) as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public')"
            ).fetchone()
        return bool(row and row[0])

    def _next_spare(self) -> None:
        self.used.append(self.spare)
        self.spare = self._create()
        os.environ[ENV_CATALOG_URL] = self.url(self.spare)

    def take(self) -> str:
        """A fresh database's URL, for one data home."""
        name = self.spare
        self._next_spare()
        return self.url(name)

    def claim(self) -> list[str]:
        """The databases used since the last claim (also by a ``svidok init`` subprocess)."""
        if self._is_used(self.spare):
            self._next_spare()
        claimed, self.used = self.used, []
        return claimed

    def drop(self, names: list[str]) -> None:
        """Drop test databases. Cleanup only: a database still held by a server process the
        role may not end (an autovacuum worker, say) is retried for a while, then left to
        the throwaway server rather than failing the test that made it."""
        import time

        import psycopg

        for name in names:
            for attempt in range(20):
                try:
                    self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    break
                except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
                    time.sleep(0.05 * (attempt + 1))

    def close(self) -> None:
        self.drop(self.created)
        self.admin.close()


_pg: list[PgDatabases] = []


@pytest.fixture(scope="session", autouse=True)
def _catalog_databases() -> Iterator[None]:
    """With ``SVIDOK_TEST_PG_URL``, every data home's catalog is a fresh PostgreSQL database."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(ENV_CATALOG_URL, raising=False)  # a developer's own setting stays out
        if PG_URL is None:
            yield
            return
        dbs = PgDatabases(PG_URL)
        _pg.append(dbs)
        original = Home.init

        def init(cls: type[Home], path: Path, **kwargs: Any) -> Any:
            if kwargs.get("catalog_url") is None and os.environ.get(
                ENV_CATALOG_URL
            ) == dbs.url(dbs.spare):
                kwargs["catalog_url"] = dbs.take()
            return original(path, **kwargs)

        mp.setattr(Home, "init", classmethod(init))
        try:
            yield
        finally:
            _pg.clear()
            dbs.close()


@pytest.fixture(autouse=True)
def _catalog_database_per_test(_catalog_databases: None) -> Iterator[None]:
    """Databases used by a test's own homes are dropped after it; those of module-scoped
    fixtures (made before the test started) live until the end of the session."""
    if not _pg:
        yield
        return
    dbs = _pg[0]
    dbs.claim()  # made by broader fixtures: kept
    yield
    dbs.drop(dbs.claim())


def next_spare_catalog() -> None:
    """Before another ``svidok init`` subprocess in the same test: with PostgreSQL, make
    ``$SVIDOK_CATALOG_URL`` name an unused database again (no-op on SQLite)."""
    if _pg and _pg[0]._is_used(_pg[0].spare):
        _pg[0]._next_spare()


@pytest.fixture()
def fresh_catalog_url(tmp_path: Path) -> str:
    """The URL of an empty catalog database: PostgreSQL when a server is given, else SQLite."""
    if _pg:
        return _pg[0].take()
    return f"sqlite:///{tmp_path / 'fresh-catalog.sqlite'}"


def pytest_report_header() -> str:
    if PG_URL is None:
        return "svidok catalog: SQLite"
    return f"svidok catalog: PostgreSQL ({make_url(PG_URL).render_as_string(hide_password=True)})"


@pytest.fixture()
def home_path(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    Home.init(path, origin="svidok.test/home", actor="tester")
    return path


@pytest.fixture()
def home(home_path: Path) -> Iterator[Home]:
    with Home.open(home_path) as h:
        yield h


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_ingest(home: Home, *paths: Path | bytes, options: IngestOptions = OPTIONS) -> IngestReport:
    return ingest(home, [os.fsencode(p) for p in paths], options)


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a skipped test is a failure: every tool a test needs must be installed."""
    if os.environ.get("CI") == "true" and _skipped:
        print(f"\nCI: skipped tests fail CI: {', '.join(_skipped)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def load_make_samples() -> ModuleType:
    """examples/make_samples.py imported by path (it is not part of the package)."""
    name = "svidok_make_samples"
    if name in sys.modules:
        return sys.modules[name]
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(name, root / "examples" / "make_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def write_samples(out: Path) -> Path:
    """The generated sample evidence (photos with EXIF and GPS, video, PDF, text, audio)."""
    load_make_samples().make_all(out)
    return out
