"""One-time passwords: marked to be changed, seen at sign-in and on every session look-up,
cleared by an ordinary password; issuing one revokes the user's sessions and tokens."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from svidok.auth import AuthStore
from svidok.auth.passwords import check_policy, generate_password
from svidok.errors import AuthenticationFailed

from .helpers import T0, USER_PASSWORD


def test_must_change_is_seen_at_sign_in_and_by_sessions(store: AuthStore) -> None:
    user = uuid4()
    store.set_password(user, USER_PASSWORD, must_change=True, now=T0)
    assert store.must_change_password(user)
    accepted = store.check_password(user, USER_PASSWORD, client="192.0.2.7", now=T0)
    assert accepted.must_change and not accepted.totp_required
    new = store.create_session(user, second_factor=False, now=T0)
    assert store.get_session(new.cookie, now=T0).must_change_password
    store.set_password(user, "my own long passphrase", now=T0)  # as changing one's own does
    assert not store.must_change_password(user)
    assert not store.get_session(new.cookie, now=T0).must_change_password
    again = store.check_password(user, "my own long passphrase", client="192.0.2.7", now=T0)
    assert not again.must_change


def test_ordinary_passwords_and_unknown_users(store: AuthStore) -> None:
    user = uuid4()
    assert not store.must_change_password(user)  # no credentials at all
    store.set_password(user, USER_PASSWORD, now=T0)
    assert not store.must_change_password(user)


def test_issue_one_time_password_revokes_sessions_and_tokens(store: AuthStore) -> None:
    user, other = uuid4(), uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    store.set_password(other, USER_PASSWORD, now=T0)
    session = store.create_session(user, second_factor=False)
    info, token = store.create_token(user, None, timedelta(days=3))
    _, others_token = store.create_token(other, None, timedelta(days=3))
    issued = store.issue_one_time_password(user)
    assert issued.revoked_tokens == (info.token_id,)
    assert issued.password not in repr(issued)
    check_policy(issued.password)
    assert store.must_change_password(user)
    with pytest.raises(AuthenticationFailed):
        store.get_session(session.cookie)
    with pytest.raises(AuthenticationFailed):
        store.authenticate_token(token)
    store.authenticate_token(others_token)  # nobody else's
    with pytest.raises(AuthenticationFailed):
        store.check_password(user, USER_PASSWORD, client="192.0.2.8")
    assert store.check_password(user, issued.password, client="192.0.2.8").must_change


def test_generated_passwords_are_strong_and_differ() -> None:
    made = {generate_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        check_policy(password)
        assert len(password) == 23 and password.count("-") == 3
