"""The catalog database: SQLite in the data home by default, or PostgreSQL.

Only the two tested dialects are used: SQLite (``sqlite:///<absolute path>``) and
PostgreSQL through psycopg 3 (``postgresql+psycopg://user@host:port/database``; a bare
``postgresql://`` URL is read as psycopg). Everything else in this module is dialect-neutral:
SQLite's pragmas are set only on SQLite, and every URL in a message hides its password.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Engine, create_engine, event, insert, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from svidok.catalog import projection
from svidok.catalog import schema as s
from svidok.errors import SvidokError
from svidok.ledger.entries import Entry

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

_MIGRATIONS = Path(__file__).with_name("migrations")
#: Dialects the catalog is tested on.
DIALECTS = ("sqlite", "postgresql")
# Key of the PostgreSQL advisory lock held while a new catalog is checked and migrated.
_CREATE_LOCK = 0x5376_6964_6F6B  # "Svidok"


HEAD = "0005"  # the newest migration; a test holds it equal to Alembic's head


class CatalogError(SvidokError):
    """The catalog database cannot be used."""


def parse_url(url: str | URL) -> URL:
    """A catalog URL, checked: SQLite or PostgreSQL (psycopg 3), never a relative SQLite file.

    Raises ``CatalogError`` with a message that does not show the password.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise CatalogError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    shown = safe_url(parsed)
    if backend not in DIALECTS:
        raise CatalogError(f"{shown}: the catalog runs on SQLite or PostgreSQL, not {backend}")
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        elif parsed.drivername != "postgresql+psycopg":
            raise CatalogError(f"{shown}: use the psycopg driver (postgresql+psycopg://...)")
    elif parsed.database in (None, "", ":memory:") or not Path(parsed.database).is_absolute():
        raise CatalogError(f"{shown}: a SQLite catalog needs an absolute file path")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL for messages: its password (if any) shown as ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<not a database URL>"


def _scrub(message: str, url: URL) -> str:
    """``message`` without the URL's password, should a driver ever repeat it."""
    if url.password:
        message = message.replace(str(url.password), "***")
    return message


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig  # imported only when migrating

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    # Alembic reads the URL only to name it; the connection is handed over (env.py). The
    # password is left out so that it cannot appear in any Alembic message.
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=True).replace("%", "%%")
    )
    return cfg


def _plain(value: Any) -> Any:
    """A column value in the same Python type whatever the dialect returned."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


class Catalog:
    """The SQL projection of the ledger. ``applied`` counts the ledger entries it reflects."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str | URL) -> Catalog:
        """An engine on a catalog URL (see ``parse_url``); nothing is connected yet."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            parsed = parse_url(parsed)
            # one command is one short-lived process: a small pool, checked before use
            engine = create_engine(parsed, pool_size=2, max_overflow=4, pool_pre_ping=True)
        else:
            engine = create_engine(parsed)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

    @classmethod
    def for_file(cls, path: Path) -> Catalog:
        return cls.connect(f"sqlite:///{path}")

    @classmethod
    def for_home(cls, url: str | None, default_file: Path) -> Catalog:
        """The catalog a data home's settings name: ``url``, else SQLite at ``default_file``."""
        return cls.connect(parse_url(url)) if url else cls.for_file(default_file)

    @classmethod
    def create(cls, url: str | None, default_file: Path) -> Catalog:
        """A new data home's catalog, migrated to the newest schema.

        A server database must be empty (or hold only the empty catalog of an ``init`` that
        stopped half-way): a catalog is never shared by two data homes.
        """
        cat = cls.for_home(url, default_file)
        try:
            cat._check_unused()
            cat.migrate()
        except BaseException:
            cat.close()
            raise
        return cat

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def _error(self, what: str, exc: BaseException) -> CatalogError:
        detail = _scrub(str(getattr(exc, "orig", None) or exc), self.engine.url).strip()
        return CatalogError(f"{what} ({self.safe_url}): {detail}")

    def _check_unused(self) -> None:
        try:
            with self.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                if not tables:
                    return
                applied = None
                if "meta" in tables and "entries" in tables:
                    applied = conn.execute(
                        select(s.meta.c.value).where(s.meta.c.key == "applied")
                    ).scalar_one_or_none()
                    if conn.execute(select(s.entries.c.idx).limit(1)).first() is not None:
                        applied = "entries"
        except SQLAlchemyError as exc:
            raise self._error("cannot open the catalog database", exc) from exc
        ours = {t.name for t in s.metadata.sorted_tables} | {"alembic_version"}
        ours |= set(s.SEARCH_FTS_TABLES)  # the search index on SQLite (migration 0005)
        if applied not in (None, "0") or not tables <= ours:
            raise CatalogError(
                f"the catalog database {self.safe_url} is not empty; a new data home needs an "
                "empty database of its own"
            )

    @classmethod
    def in_memory(cls) -> Catalog:
        """A scratch catalog, for rebuilding and comparing."""
        cat = cls.connect("sqlite://")
        s.metadata.create_all(cat.engine)
        with cat.engine.begin() as conn:
            conn.execute(insert(s.meta), [{"key": "applied", "value": "0"}])
        return cat

    def migrate(self, target: str = "head") -> None:
        """Bring the schema to the newest migration (Alembic), or to ``target``."""
        self._alembic("upgrade", target)

    def downgrade(self, target: str) -> None:
        """Take the schema back to ``target`` (a revision, ``-1`` or ``base``)."""
        self._alembic("downgrade", target)

    def _alembic(self, verb: str, target: str) -> None:
        from alembic import command  # imported only when migrating

        try:
            with self.engine.connect() as conn:
                sqlite = conn.dialect.name == "sqlite"
                if sqlite:
                    # Alembic's batch mode changes a SQLite table by copying it, dropping the
                    # old one and renaming: with foreign keys enforced, dropping a table that
                    # rows refer to fails. Off (outside a transaction), checked at the end.
                    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                    conn.commit()
                try:
                    with conn.begin():
                        if not sqlite:  # two inits at once: one at a time (PostgreSQL)
                            conn.execute(
                                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CREATE_LOCK}
                            )
                        cfg = _alembic_config(self.engine)
                        cfg.attributes["connection"] = conn
                        getattr(command, verb)(cfg, target)
                        if sqlite:
                            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                            if broken:
                                raise CatalogError(
                                    f"the migration left rows whose references are broken: "
                                    f"{broken[:5]}"
                                )
                        if verb == "upgrade" and "meta" in inspect(conn).get_table_names():
                            present = conn.execute(
                                select(s.meta.c.value).where(s.meta.c.key == "applied")
                            ).first()
                            if present is None:
                                conn.execute(insert(s.meta), [{"key": "applied", "value": "0"}])
                finally:
                    if sqlite:
                        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                        conn.commit()
        except SQLAlchemyError as exc:
            raise self._error("cannot prepare the catalog database", exc) from exc

    def revision(self) -> str | None:
        """The schema revision the database is at (cheap: no Alembic import)."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None

    def is_current(self) -> bool:
        """Whether the schema is at :data:`HEAD` (the newest migration shipped)."""
        return self.revision() == HEAD

    def needs_migration(self) -> bool:
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(self.engine)).get_current_head()
        return bool(current != head)

    def applied(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(s.meta.c.value).where(s.meta.c.key == "applied")
            ).scalar_one_or_none()
        return int(value or 0)

    def apply(self, batch: Sequence[Entry]) -> None:
        """Project consecutive entries; they must start where the catalog stopped."""
        if not batch:
            return
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":  # take the write lock before reading the count
                conn.execute(
                    update(s.meta).where(s.meta.c.key == "applied").values(value=s.meta.c.value)
                )
            # FOR UPDATE: a second writer (PostgreSQL) waits here, then sees the new count
            applied = int(
                conn.execute(
                    select(s.meta.c.value).where(s.meta.c.key == "applied").with_for_update()
                ).scalar_one()
            )
            if batch[0].index != applied:
                raise CatalogError(
                    f"catalog holds {applied} entries; cannot apply from entry {batch[0].index}"
                )
            projection.apply(conn, batch)
            conn.execute(
                update(s.meta)
                .where(s.meta.c.key == "applied")
                .values(value=str(batch[-1].index + 1))
            )

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every projected row, in primary-key order, for comparison.

        The same on every dialect: values in plain Python types, rows sorted here by code
        point (a server's collation may order text otherwise than SQLite does).
        """
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in (*s.PROJECTED, s.meta):
                keys = [i for i, c in enumerate(table.columns) if c.primary_key]
                rows = [tuple(_plain(v) for v in r) for r in conn.execute(select(table))]
                rows.sort(key=lambda r: tuple(r[i] for i in keys))
                out[table.name] = rows
        return out

    def has_acquisition(
        self,
        *,
        case: str,
        object_id: str,
        path: str,
        mtime_ns: str | None,
        size: int,
        collector: str,
        source: str | None,
    ) -> bool:
        a = s.acquisitions.c
        query = (
            select(a.entry)
            .where(
                a.case_name == case,
                a.object_id == object_id,
                a.path == path,
                a.mtime_ns == mtime_ns if mtime_ns is not None else a.mtime_ns.is_(None),
                a.size == size,
                a.collector == collector,
                a.source == source if source is not None else a.source.is_(None),
            )
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def close(self) -> None:
        self.engine.dispose()
