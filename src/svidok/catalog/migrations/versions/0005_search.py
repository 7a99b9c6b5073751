"""Search: the full-text index over records and the text extracted from their originals.

``search_docs`` holds one row per record (its terms and its text); ``search_texts`` the
text of each text derivative. On SQLite an FTS5 table indexes ``search_docs.body``
(external content, kept in step by triggers); on PostgreSQL a GIN index covers
``search_docs.vec``, the same terms as a ``tsvector``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_docs', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS search_docs_au",
    "DROP TRIGGER IF EXISTS search_docs_ad",
    "DROP TRIGGER IF EXISTS search_docs_ai",
    "DROP TABLE IF EXISTS search_fts",
)
_PG_UP = ("CREATE INDEX ix_search_docs_vec ON search_docs USING gin ((vec::tsvector))",)
_PG_DOWN = ("DROP INDEX IF EXISTS ix_search_docs_vec",)


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subkind", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("assessment", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("time_start", sa.String(length=40), nullable=True),
        sa.Column("time_end", sa.String(length=40), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("display", sa.Text(), nullable=False),
        sa.Column("vec", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    op.create_index("ix_search_docs_case_id", "search_docs", ["case_id"])
    op.create_index("ix_search_docs_lat_lon", "search_docs", ["lat", "lon"])
    op.create_index("ix_search_docs_kind_lat_lon", "search_docs", ["kind", "lat", "lon"])
    op.create_table(
        "search_texts",
        sa.Column("object_id", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("object_id"),
    )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_UP if dialect == "sqlite" else _PG_UP:
        op.execute(statement)
    from svidok.search.index import refresh_all

    refresh_all(op.get_bind())  # the records of a catalog made before this revision


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_DOWN if dialect == "sqlite" else _PG_DOWN:
        op.execute(statement)
    op.drop_table("search_texts")
    op.drop_index("ix_search_docs_kind_lat_lon", table_name="search_docs")
    op.drop_index("ix_search_docs_lat_lon", table_name="search_docs")
    op.drop_index("ix_search_docs_case_id", table_name="search_docs")
    op.drop_table("search_docs")
