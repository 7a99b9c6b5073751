"""The auth store: TOTP set-up, checks, replay and throttling."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from svidok.auth import AuthStore, totp
from svidok.auth import _schema as s
from svidok.errors import (
    AuthenticationFailed,
    LoginThrottled,
    ProtectedDataError,
    TotpError,
    UnknownUserError,
)
from svidok.protect import FieldCipher

from .helpers import T0, USER_PASSWORD


def _enrolled(store: AuthStore) -> tuple[UUID, str]:
    user = uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    enrollment = store.enable_totp(user, account="olena.k")
    assert enrollment.secret not in repr(enrollment)
    store.confirm_totp(user, totp.code_at(enrollment.secret, T0), now=T0)
    return user, enrollment.secret


def test_enable_confirm_and_sign_in(store: AuthStore) -> None:
    user = uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    enrollment = store.enable_totp(user, account="olena.k")
    assert "secret=" + enrollment.secret in enrollment.uri
    assert not store.totp_enabled(user)  # not in force before confirmation
    assert not store.check_password(user, USER_PASSWORD, client="c", now=T0).totp_required
    with pytest.raises(AuthenticationFailed):
        store.confirm_totp(
            user, "000000" if totp.code_at(enrollment.secret, T0) != "000000" else "111111", now=T0
        )
    store.confirm_totp(user, totp.code_at(enrollment.secret, T0), now=T0)
    assert store.totp_enabled(user)
    assert store.check_password(user, USER_PASSWORD, client="c", now=T0).totp_required
    later = T0 + timedelta(minutes=5)
    store.check_totp(user, totp.code_at(enrollment.secret, later), client="c", now=later)


def test_code_used_at_confirmation_cannot_sign_in(store: AuthStore) -> None:
    user, secret = _enrolled(store)
    with pytest.raises(AuthenticationFailed):
        store.check_totp(user, totp.code_at(secret, T0), client="c", now=T0)


def test_replay_and_window(store: AuthStore) -> None:
    user, secret = _enrolled(store)
    now = T0 + timedelta(minutes=10)
    step = totp.step_at(now)
    code = totp.code_for_step(secret, step)
    store.check_totp(user, code, client="c", now=now)
    with pytest.raises(AuthenticationFailed):  # same code again, same step
        store.check_totp(user, code, client="c", now=now)
    with pytest.raises(AuthenticationFailed):  # a code of the step before is older
        store.check_totp(user, totp.code_for_step(secret, step - 1), client="c", now=now)
    with pytest.raises(AuthenticationFailed):  # two steps ahead is outside the window
        store.check_totp(user, totp.code_for_step(secret, step + 3), client="c", now=now)
    store.check_totp(user, totp.code_for_step(secret, step + 1), client="c", now=now)
    with store.engine.connect() as conn:
        last = conn.execute(
            select(s.credentials.c.totp_last_step).where(s.credentials.c.user_id == str(user))
        ).scalar_one()
    assert last == step + 1


def test_totp_guesses_are_throttled_on_their_own_counter(store: AuthStore) -> None:
    user, secret = _enrolled(store)
    now = T0 + timedelta(minutes=10)
    right = totp.code_at(secret, now)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for i in range(5):
        with pytest.raises(AuthenticationFailed):
            store.check_totp(user, wrong, client=f"10.9.0.{i}", now=now)
    with pytest.raises(LoginThrottled) as info:
        store.check_totp(user, right, client="10.9.1.0", now=now)
    assert right not in str(info.value)
    # a right password does not lift the TOTP counter
    store.check_password(user, USER_PASSWORD, client="10.9.1.1", now=now)
    with pytest.raises(LoginThrottled):
        store.check_totp(user, right, client="10.9.1.2", now=now)
    store.check_totp(user, right, client="10.9.1.3", now=now + timedelta(seconds=1))


def test_states(store: AuthStore) -> None:
    with pytest.raises(UnknownUserError):
        store.enable_totp(uuid4(), account="nobody")
    user, _secret = _enrolled(store)
    with pytest.raises(TotpError, match="already enabled"):
        store.enable_totp(user, account="olena.k")
    with pytest.raises(TotpError):
        store.confirm_totp(user, "123456", now=T0)
    store.disable_totp(user)
    assert not store.totp_enabled(user)
    with pytest.raises(AuthenticationFailed):
        store.check_totp(user, "123456", client="c", now=T0)
    with pytest.raises(TotpError):
        store.confirm_totp(user, "123456", now=T0)


def test_secret_is_sealed_for_its_user(store: AuthStore, cipher: FieldCipher) -> None:
    user, secret = _enrolled(store)
    with store.engine.connect() as conn:
        sealed = conn.execute(
            select(s.credentials.c.totp_secret).where(s.credentials.c.user_id == str(user))
        ).scalar_one()
    assert sealed.startswith("svidok-enc:1:" + cipher.key_id)
    assert secret not in sealed
    assert cipher.decrypt(sealed, f"totp:{user}") == secret
    with pytest.raises(ProtectedDataError):
        cipher.decrypt(sealed, f"totp:{uuid4()}")


def test_wrong_field_key_is_a_clear_error(store: AuthStore) -> None:
    user, secret = _enrolled(store)
    other = AuthStore(store.engine, FieldCipher.generate())
    later = T0 + timedelta(minutes=1)
    with pytest.raises(ProtectedDataError) as info:
        other.check_totp(user, totp.code_at(secret, later), client="c", now=later)
    assert secret not in str(info.value)
