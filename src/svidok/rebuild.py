"""``svidok rebuild``: the catalog made again from the ledger alone.

Every projected table is emptied and the whole ledger replayed through the one projection,
in a single transaction: either the rebuilt catalog replaces the old one whole, or nothing
changes. The ledger is read entry by entry, each line checked as it is parsed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, update

from svidok.catalog import projection
from svidok.catalog import schema as s
from svidok.derive.text import load_texts
from svidok.home import Home
from svidok.ledger.entries import Entry
from svidok.search import index as search_index

BATCH = 1000


def rebuild(home: Home, progress: Callable[[int, int], None] | None = None) -> int:
    """Replace the catalog's projection with a replay of the ledger; entries applied."""
    with home.ledger.locked():
        total = home.ledger.size
        with home.catalog.engine.begin() as conn:
            search_index.clear(conn, texts=True)  # derived: replayed with the catalog
            for table in reversed(s.PROJECTED):  # children first
                conn.execute(delete(table))
            conn.execute(delete(s.meta).where(s.meta.c.key == "origin"))
            batch: list[Entry] = []
            done = 0
            for entry in home.ledger.iter_entries():
                batch.append(entry)
                if len(batch) == BATCH:
                    projection.apply(conn, batch)
                    done += len(batch)
                    batch = []
                    if progress is not None:
                        progress(done, total)
            projection.apply(conn, batch)
            done += len(batch)
            conn.execute(update(s.meta).where(s.meta.c.key == "applied").values(value=str(done)))
        load_texts(home)  # the extracted texts, read back from the store for the index
        if progress is not None:
            progress(done, total)
        return done
