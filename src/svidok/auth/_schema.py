"""The auth store's tables, on their own MetaData (their own database, by default).

Every table name starts with ``auth_`` and the Alembic version table is
``auth_alembic_version``, so the store may share a PostgreSQL database with the catalog.
Only portable types are used. Users are keyed by UUID text; users themselves (names,
roles) live in the catalog.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime on every database. Naive datetimes are refused on the way in;
    SQLite, which keeps no zone, stores naive UTC and gets UTC put back on the way out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the auth store takes aware (UTC) datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


credentials = sa.Table(
    "auth_credentials",
    metadata,
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("password_set", UtcDateTime, nullable=False),
    sa.Column("totp_secret", sa.Text, nullable=True),  # sealed by FieldCipher
    sa.Column("totp_enabled", sa.Boolean, nullable=False),
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),
    # set with a one-time password: the user must choose their own at the next sign-in
    sa.Column("must_change", sa.Boolean, nullable=False, server_default=sa.false()),
)

tokens = sa.Table(
    "auth_tokens",
    metadata,
    sa.Column("token_id", sa.String(12), primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False, index=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("cases", sa.Text, nullable=True),  # JSON list of case UUIDs; NULL: all
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("expires", UtcDateTime, nullable=False),
    sa.Column("revoked", UtcDateTime, nullable=True),
)

sessions = sa.Table(
    "auth_sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),  # SHA-256 of the cookie
    sa.Column("user_id", sa.String(36), nullable=False, index=True),
    sa.Column("csrf_sha256", sa.String(64), nullable=False),
    sa.Column("created", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("expires", UtcDateTime, nullable=False),  # absolute
    sa.Column("idle_expires", UtcDateTime, nullable=False),
    sa.Column("second_factor", sa.Boolean, nullable=False),
    sa.Column("revoked", UtcDateTime, nullable=True),
)

login_attempts = sa.Table(
    "auth_login_attempts",
    metadata,
    sa.Column("scope", sa.String(16), primary_key=True),  # password, totp or client
    sa.Column("subject", sa.String(64), primary_key=True),  # user UUID or blinded client
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure", UtcDateTime, nullable=False, index=True),
    sa.Column("blocked_until", UtcDateTime, nullable=True),
)
