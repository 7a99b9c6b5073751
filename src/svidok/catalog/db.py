"""The catalog database: SQLite in the data home by default (any SQLAlchemy URL works)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from svidok.catalog import projection
from svidok.catalog import schema as s
from svidok.errors import SvidokError
from svidok.ledger.entries import Entry

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

_MIGRATIONS = Path(__file__).with_name("migrations")


class CatalogError(SvidokError):
    """The catalog database cannot be used."""


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
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


class Catalog:
    """The SQL projection of the ledger. ``applied`` counts the ledger entries it reflects."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str) -> Catalog:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

    @classmethod
    def for_file(cls, path: Path) -> Catalog:
        return cls.connect(f"sqlite:///{path}")

    @classmethod
    def in_memory(cls) -> Catalog:
        """A scratch catalog, for rebuilding and comparing."""
        cat = cls.connect("sqlite://")
        s.metadata.create_all(cat.engine)
        with cat.engine.begin() as conn:
            conn.execute(insert(s.meta), [{"key": "applied", "value": "0"}])
        return cat

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic)."""
        try:
            with self.engine.begin() as conn:
                cfg = _alembic_config(self.engine)
                cfg.attributes["connection"] = conn
                from alembic import command

                command.upgrade(cfg, "head")
                present = conn.execute(select(s.meta.c.value).where(s.meta.c.key == "applied"))
                if present.first() is None:
                    conn.execute(insert(s.meta), [{"key": "applied", "value": "0"}])
        except SQLAlchemyError as exc:
            raise CatalogError(f"cannot prepare the catalog database: {exc}") from exc

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
            applied = int(
                conn.execute(select(s.meta.c.value).where(s.meta.c.key == "applied")).scalar_one()
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
        """Every projected row, in primary-key order, for comparison."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in (*s.PROJECTED, s.meta):
                pk = list(table.primary_key.columns)
                out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*pk))]
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
