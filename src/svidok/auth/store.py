"""The auth store: passwords, TOTP, API tokens, browser sessions and sign-in throttling.

It has its own database (``auth.sqlite`` in the data home by default; any SQLAlchemy URL,
PostgreSQL included) and its own Alembic migrations and version table. It knows users by
UUID only; names and roles live in the catalog. What it keeps:

* password hashes (Argon2id, :mod:`svidok.auth.passwords`);
* TOTP secrets sealed with the field key (context ``totp:<user uuid>``), and the last
  step used, so a code is never accepted twice;
* SHA-256 hashes of API token secrets, with an expiry (required) and a case scope;
* SHA-256 hashes of session cookies and CSRF tokens, with idle and absolute expiry;
* failure counters for throttling.

No secret is stored in clear, and no message of an error holds one. Every method takes
``now`` (an aware datetime; default: the clock) so that time can be set in tests.
Refusals of credentials are one generic :class:`AuthenticationFailed` per kind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Engine, Row, create_engine, delete, event, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from svidok.auth import _schema as s
from svidok.auth import _throttle, passwords, tokens, totp
from svidok.auth._model import (
    AuthPolicy,
    NewSession,
    OneTimePassword,
    PasswordAccepted,
    Session,
    TokenInfo,
    TotpEnrollment,
)
from svidok.errors import (
    AuthenticationFailed,
    AuthError,
    CsrfError,
    HomeNotFoundError,
    LoginThrottled,
    TokenPolicyError,
    TotpError,
    UnknownUserError,
)
from svidok.protect import FieldCipher

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

AUTH_DB = "auth.sqlite"
FIELD_KEY = Path("keys") / "fields.key"
_MIGRATIONS = Path(__file__).with_name("migrations")
_SIGN_IN_FAILED = "authentication failed"
_TOKEN_FAILED = "API token not accepted"  # noqa: S105 - an error message
_SESSION_FAILED = "session not valid; sign in again"
_CSRF_INFO = b"svidok csrf v1"
_COOKIE_MAX = 128


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _alembic_config() -> AlembicConfig:
    """Migrations run on a connection handed over in ``attributes``; no URL is set (it
    may hold a password, and a ``%`` in it breaks Alembic's ini interpolation)."""
    from alembic.config import Config as AlembicConfig  # imported only when migrating

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("pass an aware datetime (UTC) as now")
    return now.astimezone(UTC)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _csrf_for(cookie: str) -> str:
    mac = hmac.new(cookie.encode("ascii"), _CSRF_INFO, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


class AuthStore:
    """Credentials, tokens and sessions of users known by UUID. Call :meth:`migrate` once
    after connecting; :meth:`close` at the end."""

    def __init__(
        self, engine: Engine, cipher: FieldCipher, policy: AuthPolicy | None = None
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.policy = policy if policy is not None else AuthPolicy()

    @classmethod
    def connect(cls, url: str, cipher: FieldCipher, policy: AuthPolicy | None = None) -> AuthStore:
        engine = create_engine(url, hide_parameters=True)  # no hashes in error messages
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine, cipher, policy)

    @classmethod
    def for_home(cls, home: Path, policy: AuthPolicy | None = None) -> AuthStore:
        """The default store of a data home: ``auth.sqlite`` (mode 0600) and the field
        key ``keys/fields.key``, created if missing. The home itself must exist."""
        if not home.is_dir():
            raise HomeNotFoundError(f"no data home at {home}")
        cipher = FieldCipher.load_or_create(home / FIELD_KEY)
        db = home / AUTH_DB
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))
        return cls.connect(f"sqlite:///{db}", cipher, policy)

    def migrate(self, target: str = "head") -> None:
        """Bring the schema to the newest migration (Alembic, ``auth_alembic_version``),
        or to ``target``."""
        self._alembic("upgrade", target)

    def downgrade(self, target: str) -> None:
        """Take the schema back to ``target`` (a revision, ``-1`` or ``base``)."""
        self._alembic("downgrade", target)

    def _alembic(self, verb: str, target: str) -> None:
        try:
            with self.engine.begin() as conn:
                cfg = _alembic_config()
                cfg.attributes["connection"] = conn
                from alembic import command

                getattr(command, verb)(cfg, target)
        except SQLAlchemyError as exc:
            raise AuthError(f"cannot prepare the auth database: {exc}") from exc

    def needs_migration(self) -> bool:
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        with self.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": "auth_alembic_version"})
            current = ctx.get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        return bool(current != head)

    def close(self) -> None:
        self.engine.dispose()

    # -- passwords ---------------------------------------------------------------------

    def set_password(
        self,
        user: UUID,
        password: str,
        *,
        must_change: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Set or replace a user's password (policy checked first). ``must_change``: a
        one-time password, which the user must replace at the next sign-in (setting a
        password without it, as changing one's own does, clears the mark). Sessions and
        tokens are left alone: call :meth:`revoke_all` too when the old password may be
        known."""
        when = _now(now)
        hashed = passwords.hash_password(password)
        c = s.credentials.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(s.credentials)
                .where(c.user_id == str(user))
                .values(password_hash=hashed, password_set=when, must_change=must_change)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(s.credentials).values(
                        user_id=str(user),
                        password_hash=hashed,
                        password_set=when,
                        totp_secret=None,
                        totp_enabled=False,
                        totp_last_step=None,
                        must_change=must_change,
                    )
                )

    def issue_one_time_password(
        self, user: UUID, *, now: datetime | None = None
    ) -> OneTimePassword:
        """A new random password for ``user``, marked to be changed at the next sign-in;
        every session and API token of the user is revoked. The password is in the
        answer only (show it once, to the user); the ids of the revoked tokens too, for
        the ledger."""
        when = _now(now)
        password = passwords.generate_password()
        live = tuple(t.token_id for t in self.list_tokens(user) if t.revoked is None)
        self.set_password(user, password, must_change=True, now=when)
        self.revoke_all(user, now=when)
        return OneTimePassword(password=password, revoked_tokens=live)

    def must_change_password(self, user: UUID) -> bool:
        """Whether the user's password is a one-time password still to be replaced."""
        row = self._credentials(user)
        return row is not None and bool(row.must_change)

    def check_password(
        self, user: UUID, password: str, *, client: str, now: datetime | None = None
    ) -> PasswordAccepted:
        """Check a sign-in password, throttled per user and per client address.

        Raises :class:`LoginThrottled` (with ``retry_after``) while either is blocked, and
        one :class:`AuthenticationFailed` for a wrong password or an unknown user alike."""
        when = _now(now)
        user_key = _throttle.Subject(_throttle.PASSWORD, str(user))
        client_key = self._client_key(client)
        self._count(user_key, client_key, when)
        row = self._credentials(user)
        if row is None:
            passwords.dummy_verify(password)
            raise AuthenticationFailed(_SIGN_IN_FAILED)
        if not passwords.verify_password(row.password_hash, password):
            raise AuthenticationFailed(_SIGN_IN_FAILED)
        with self.engine.begin() as conn:
            _throttle.take_back(conn, user_key, client_key, self.policy)
            if passwords.needs_rehash(row.password_hash):
                conn.execute(
                    update(s.credentials)
                    .where(s.credentials.c.user_id == str(user))
                    .values(password_hash=passwords.hash_password(password))
                )
        return PasswordAccepted(
            user=user, totp_required=bool(row.totp_enabled), must_change=bool(row.must_change)
        )

    def forget_user(self, user: UUID) -> None:
        """Delete every credential, token and session of a user."""
        with self.engine.begin() as conn:
            conn.execute(delete(s.credentials).where(s.credentials.c.user_id == str(user)))
            conn.execute(delete(s.tokens).where(s.tokens.c.user_id == str(user)))
            conn.execute(delete(s.sessions).where(s.sessions.c.user_id == str(user)))

    # -- TOTP --------------------------------------------------------------------------

    def totp_enabled(self, user: UUID) -> bool:
        row = self._credentials(user)
        return row is not None and bool(row.totp_enabled)

    def enable_totp(self, user: UUID, *, account: str, issuer: str = totp.ISSUER) -> TotpEnrollment:
        """Start TOTP set-up: a new secret, stored sealed and not yet in force until
        :meth:`confirm_totp` sees a code made from it. ``account`` names the user in the
        authenticator app (for example the user name)."""
        row = self._credentials(user)
        if row is None:
            raise UnknownUserError(f"no credentials are stored for user {user}")
        if row.totp_enabled:
            raise TotpError("TOTP is already enabled for this user; disable it first")
        secret = totp.new_secret()
        sealed = self.cipher.encrypt(secret, f"totp:{user}")
        with self.engine.begin() as conn:
            conn.execute(
                update(s.credentials)
                .where(s.credentials.c.user_id == str(user))
                .values(totp_secret=sealed, totp_enabled=False, totp_last_step=None)
            )
        return TotpEnrollment(secret, totp.provisioning_uri(secret, account=account, issuer=issuer))

    def confirm_totp(self, user: UUID, code: str, *, now: datetime | None = None) -> None:
        """Put TOTP in force once the user shows a code from the new secret."""
        when = _now(now)
        row = self._credentials(user)
        if row is None:
            raise UnknownUserError(f"no credentials are stored for user {user}")
        if row.totp_enabled or row.totp_secret is None:
            raise TotpError("no TOTP set-up is waiting for confirmation for this user")
        secret = self.cipher.decrypt(row.totp_secret, f"totp:{user}")
        step = totp.verify(secret, code, now=when, last_step=None)
        if step is None:
            raise AuthenticationFailed(_SIGN_IN_FAILED)
        c = s.credentials.c
        with self.engine.begin() as conn:
            conn.execute(
                update(s.credentials)
                .where(c.user_id == str(user), c.totp_secret == row.totp_secret)
                .values(totp_enabled=True, totp_last_step=step)
            )

    def disable_totp(self, user: UUID) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.credentials)
                .where(s.credentials.c.user_id == str(user))
                .values(totp_secret=None, totp_enabled=False, totp_last_step=None)
            )

    def check_totp(
        self, user: UUID, code: str, *, client: str, now: datetime | None = None
    ) -> None:
        """Check a sign-in's TOTP code (±1 step), throttled like passwords but on its own
        per-user counter. A code of a step already used is refused."""
        when = _now(now)
        user_key = _throttle.Subject(_throttle.TOTP, str(user))
        client_key = self._client_key(client)
        self._count(user_key, client_key, when)
        row = self._credentials(user)
        if row is None or not row.totp_enabled or row.totp_secret is None:
            raise AuthenticationFailed(_SIGN_IN_FAILED)
        secret = self.cipher.decrypt(row.totp_secret, f"totp:{user}")
        step = totp.verify(secret, code, now=when, last_step=row.totp_last_step)
        if step is None:
            raise AuthenticationFailed(_SIGN_IN_FAILED)
        c = s.credentials.c
        with self.engine.begin() as conn:
            fresh = conn.execute(
                update(s.credentials)
                .where(c.user_id == str(user), c.totp_enabled.is_(True))
                .where(or_(c.totp_last_step.is_(None), c.totp_last_step < step))
                .values(totp_last_step=step)
            ).rowcount
            if fresh:
                _throttle.take_back(conn, user_key, client_key, self.policy)
        if not fresh:  # the same code was used by a parallel sign-in
            raise AuthenticationFailed(_SIGN_IN_FAILED)

    # -- API tokens --------------------------------------------------------------------

    def create_token(
        self,
        user: UUID,
        cases: Iterable[UUID] | None,
        expires_in: timedelta,
        *,
        now: datetime | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new API token for ``user``, limited to ``cases`` (None: every case the user
        may reach) and expiring after ``expires_in`` (at most the policy's maximum).
        Returns its description and its text, which is shown once and never stored."""
        when = _now(now)
        limit = self.policy.token_max_lifetime
        if not timedelta(0) < expires_in <= limit:
            raise TokenPolicyError(f"an API token must expire within {limit.days} days")
        scope = None if cases is None else frozenset(cases)
        if scope is not None and not scope:
            raise TokenPolicyError("an API token needs at least one case (or None for all)")
        made = tokens.generate()
        info = TokenInfo(made.token_id, user, scope, when, when + expires_in, None)
        cases_json = None if scope is None else json.dumps(sorted(str(c) for c in scope))
        with self.engine.begin() as conn:
            conn.execute(
                insert(s.tokens).values(
                    token_id=made.token_id,
                    user_id=str(user),
                    secret_sha256=tokens.hash_secret(made.secret),
                    cases=cases_json,
                    created=info.created,
                    expires=info.expires,
                    revoked=None,
                )
            )
        return info, made.text

    def authenticate_token(self, text: str, *, now: datetime | None = None) -> TokenInfo:
        """The token's description if ``text`` is a live token; else one generic
        :class:`AuthenticationFailed` (:class:`TokenFormatError` if not token-shaped)."""
        when = _now(now)
        parsed = tokens.parse(text)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.tokens).where(s.tokens.c.token_id == parsed.token_id)
            ).first()
        stored = row.secret_sha256 if row is not None else "0" * 64
        matches = tokens.secret_matches(parsed.secret, stored)
        if row is None or not matches:
            raise AuthenticationFailed(_TOKEN_FAILED)
        info = _token_info(row)
        if info.revoked is not None or when >= info.expires:
            raise AuthenticationFailed(_TOKEN_FAILED)
        return info

    def revoke_token(self, token_id: str, *, now: datetime | None = None) -> bool:
        """Revoke a token by id; False if there is no such live token."""
        when = _now(now)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(s.tokens)
                .where(s.tokens.c.token_id == token_id, s.tokens.c.revoked.is_(None))
                .values(revoked=when)
            ).rowcount
        return bool(done)

    def list_tokens(self, user: UUID) -> list[TokenInfo]:
        """Every token of a user, live or not, oldest first."""
        t = s.tokens.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(s.tokens).where(t.user_id == str(user)).order_by(t.created, t.token_id)
            ).all()
        return [_token_info(r) for r in rows]

    # -- browser sessions --------------------------------------------------------------

    def create_session(
        self, user: UUID, *, second_factor: bool, now: datetime | None = None
    ) -> NewSession:
        """A new session; returns the cookie secret and CSRF token, shown once. Create a
        new session (and revoke the old) whenever the user's privilege changes."""
        when = _now(now)
        cookie = secrets.token_urlsafe(32)
        csrf = _csrf_for(cookie)
        expires = when + self.policy.session_absolute
        with self.engine.begin() as conn:
            conn.execute(
                insert(s.sessions).values(
                    session_id=_sha256(cookie),
                    user_id=str(user),
                    csrf_sha256=_sha256(csrf),
                    created=when,
                    last_seen=when,
                    expires=expires,
                    idle_expires=min(when + self.policy.session_idle, expires),
                    second_factor=second_factor,
                    revoked=None,
                )
            )
        return NewSession(cookie=cookie, csrf_token=csrf)

    def get_session(self, cookie: str, *, now: datetime | None = None) -> Session:
        """The live session of a cookie, its idle timer restarted; else
        :class:`AuthenticationFailed` (unknown, revoked, idle or past its absolute end)."""
        when = _now(now)
        if not isinstance(cookie, str) or not 0 < len(cookie) <= _COOKIE_MAX:
            raise AuthenticationFailed(_SESSION_FAILED)
        if not cookie.isascii():
            raise AuthenticationFailed(_SESSION_FAILED)
        session_id = _sha256(cookie)
        c = s.sessions.c
        with self.engine.begin() as conn:
            row = conn.execute(select(s.sessions).where(c.session_id == session_id)).first()
            if row is None or row.revoked is not None:
                raise AuthenticationFailed(_SESSION_FAILED)
            if when >= row.expires or when >= row.idle_expires:
                raise AuthenticationFailed(_SESSION_FAILED)
            idle = min(when + self.policy.session_idle, row.expires)
            touched = conn.execute(
                update(s.sessions)
                .where(c.session_id == session_id, c.revoked.is_(None))
                .values(last_seen=when, idle_expires=idle)
            ).rowcount
            if not touched:
                raise AuthenticationFailed(_SESSION_FAILED)
            must_change = conn.execute(
                select(s.credentials.c.must_change).where(
                    s.credentials.c.user_id == row.user_id
                )
            ).scalar_one_or_none()
        return Session(
            session_id=session_id,
            user=UUID(row.user_id),
            created=row.created,
            last_seen=when,
            expires=row.expires,
            idle_expires=idle,
            second_factor=bool(row.second_factor),
            csrf_sha256=row.csrf_sha256,
            csrf_token=_csrf_for(cookie),
            must_change_password=bool(must_change),
        )

    @staticmethod
    def check_csrf(session: Session, token: str | None) -> None:
        """Raise :class:`CsrfError` unless ``token`` is the session's CSRF token
        (constant-time comparison of hashes)."""
        given = _sha256(token) if isinstance(token, str) and token else ""
        if not hmac.compare_digest(given.encode("ascii"), session.csrf_sha256.encode("ascii")):
            raise CsrfError("CSRF token missing or not the one of this session")

    def revoke_session(self, session_id: str, *, now: datetime | None = None) -> bool:
        """Revoke one session by its id (:attr:`Session.session_id`); False if not live."""
        when = _now(now)
        c = s.sessions.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(s.sessions)
                .where(c.session_id == session_id, c.revoked.is_(None))
                .values(revoked=when)
            ).rowcount
        return bool(done)

    def revoke_all(
        self, user: UUID, *, include_tokens: bool = True, now: datetime | None = None
    ) -> int:
        """Revoke every session of a user, and every API token too unless told not to.
        Returns how many were revoked."""
        when = _now(now)
        tables = (s.sessions, s.tokens) if include_tokens else (s.sessions,)
        done = 0
        with self.engine.begin() as conn:
            for table in tables:
                done += conn.execute(
                    update(table)
                    .where(table.c.user_id == str(user), table.c.revoked.is_(None))
                    .values(revoked=when)
                ).rowcount
        return done

    def prune(self, *, now: datetime | None = None) -> None:
        """Delete sessions that ended and throttling counters long quiet (tokens stay,
        for the record)."""
        when = _now(now)
        c = s.sessions.c
        a = s.login_attempts.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(s.sessions).where(
                    or_(c.revoked.is_not(None), c.expires <= when, c.idle_expires <= when)
                )
            )
            conn.execute(
                delete(s.login_attempts).where(
                    a.last_failure < when - self.policy.forget_failures_after,
                    or_(a.blocked_until.is_(None), a.blocked_until <= when),
                )
            )

    # -- helpers -----------------------------------------------------------------------

    def _client_key(self, client: str) -> _throttle.Subject:
        return _throttle.Subject(_throttle.CLIENT, self.cipher.blind(client, "auth:client"))

    def _count(
        self, user_key: _throttle.Subject, client_key: _throttle.Subject, when: datetime
    ) -> None:
        with self.engine.begin() as conn:  # rolled back if throttled: counts for none
            wait = _throttle.count_attempt(conn, (user_key, client_key), when, self.policy)
            if wait is not None:
                raise LoginThrottled(wait)

    def _credentials(self, user: UUID) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(s.credentials).where(s.credentials.c.user_id == str(user))
            ).first()


def _token_info(row: Row[Any]) -> TokenInfo:
    cases = None if row.cases is None else frozenset(UUID(c) for c in json.loads(row.cases))
    return TokenInfo(
        token_id=row.token_id,
        user=UUID(row.user_id),
        cases=cases,
        created=row.created,
        expires=row.expires,
        revoked=row.revoked,
    )
