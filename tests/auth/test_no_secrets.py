"""No secret is stored in clear, and none appears in an error's message."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import text

from svidok.auth import AuthStore, totp
from svidok.auth import _schema as s
from svidok.errors import AuthError, SvidokError

from .helpers import T0, USER_PASSWORD

CLIENT = "198.51.100.23"


def _scenario(store: AuthStore) -> tuple[list[str], list[BaseException]]:
    """Use every kind of secret once, and provoke every refusal; return the secrets in
    clear and the errors raised."""
    user = uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    enrollment = store.enable_totp(user, account="olena.k")
    store.confirm_totp(user, totp.code_at(enrollment.secret, T0), now=T0)
    later = T0 + timedelta(minutes=3)
    code = totp.code_at(enrollment.secret, later)
    store.check_totp(user, code, client=CLIENT, now=later)
    _info, token = store.create_token(user, [uuid4()], timedelta(days=3), now=T0)
    store.authenticate_token(token, now=T0)
    new = store.create_session(user, second_factor=True, now=T0)
    session = store.get_session(new.cookie, now=T0)
    secrets = [
        USER_PASSWORD,
        enrollment.secret,
        enrollment.uri,
        code,
        token,
        token[20:],
        new.cookie,
        new.csrf_token,
        CLIENT,
    ]
    errors: list[BaseException] = []
    attempts: list[Callable[[], object]] = [
        lambda: store.check_password(user, USER_PASSWORD + "!", client=CLIENT, now=later),
        lambda: store.check_password(uuid4(), USER_PASSWORD, client=CLIENT, now=later),
        lambda: store.check_totp(user, code, client=CLIENT, now=later),  # replay
        lambda: store.authenticate_token(token, now=T0 + timedelta(days=4)),
        lambda: store.authenticate_token(token[:-2] + "AA", now=T0),
        lambda: store.authenticate_token(token[:-1], now=T0),
        lambda: store.get_session(new.cookie, now=T0 + timedelta(hours=13)),
        lambda: store.check_csrf(session, new.cookie),
        lambda: store.set_password(user, "short", now=T0),
        lambda: store.enable_totp(user, account="olena.k"),
        lambda: store.create_token(user, None, timedelta(days=900), now=T0),
    ]
    attempts += [
        lambda: store.check_password(user, USER_PASSWORD[::-1], client=CLIENT, now=later)
    ] * 6  # ends throttled
    for attempt in attempts:
        try:
            attempt()
        except AuthError as exc:
            errors.append(exc)
    return secrets, errors


def _all_rows_as_text(store: AuthStore) -> str:
    out = []
    with store.engine.connect() as conn:
        for table in s.metadata.sorted_tables:
            out += [repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table.name}"))]
    return "\n".join(out)


def test_database_rows_hold_no_secret(store: AuthStore) -> None:
    secrets, errors = _scenario(store)
    assert len(errors) >= 12
    dump = _all_rows_as_text(store)
    assert "argon2id" in dump and "svidok-enc:1:" in dump  # the rows are there
    for secret in secrets:
        assert secret not in dump, "a secret is stored in clear"


def test_error_messages_hold_no_secret(store: AuthStore) -> None:
    secrets, errors = _scenario(store)
    kinds = {type(e).__name__ for e in errors}
    assert {
        "AuthenticationFailed",
        "TokenFormatError",
        "CsrfError",
        "PasswordPolicyError",
        "TotpError",
        "TokenPolicyError",
        "LoginThrottled",
    } <= kinds
    for exc in errors:
        assert isinstance(exc, SvidokError)
        shown = "".join(traceback.format_exception_only(exc)) + repr(exc.args)
        chained = exc.__cause__ or exc.__context__
        if chained is not None:
            shown += "".join(traceback.format_exception_only(chained))
        for secret in secrets:
            assert secret not in shown, f"{type(exc).__name__} shows a secret"


def test_sqlite_file_holds_no_secret(tmp_path: Path) -> None:
    """Read the raw database file (and its WAL), not only what SQL returns."""
    store = AuthStore.for_home(tmp_path)
    store.migrate()
    secrets, _ = _scenario(store)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("auth.sqlite*"))
    assert b"argon2id" in raw
    for secret in secrets:
        assert secret.encode() not in raw


def test_for_home_files_are_private(tmp_path: Path) -> None:
    store = AuthStore.for_home(tmp_path)
    store.migrate()
    store.close()
    assert (tmp_path / "auth.sqlite").stat().st_mode & 0o777 == 0o600
    key = tmp_path / "keys" / "fields.key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32
    again = AuthStore.for_home(tmp_path)
    assert again.cipher.key_id == store.cipher.key_id
    assert not again.needs_migration()
    again.close()


def test_throttled_error_carries_the_wait() -> None:
    from svidok.errors import LoginThrottled

    exc = LoginThrottled(42)
    assert exc.retry_after == 42 and "42 s" in str(exc)
    with pytest.raises(AuthError):
        raise exc


def test_for_home_needs_an_existing_home(tmp_path: Path) -> None:
    from svidok.errors import FieldKeyError, HomeNotFoundError
    from svidok.protect import FieldCipher

    with pytest.raises(HomeNotFoundError):
        AuthStore.for_home(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
    with pytest.raises(FieldKeyError, match="no folder"):
        FieldCipher.load_or_create(tmp_path / "a" / "b" / "fields.key")
