"""The auth store: browser sessions (idle and absolute expiry, CSRF, revocation)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import Engine

from svidok.auth import AuthPolicy, AuthStore
from svidok.errors import AuthenticationFailed, CsrfError
from svidok.protect import FieldCipher

from .helpers import T0

MIN = timedelta(minutes=1)


def test_create_and_get(store: AuthStore) -> None:
    user = uuid4()
    new = store.create_session(user, second_factor=True, now=T0)
    assert new.cookie not in repr(new) and new.csrf_token not in repr(new)
    got = store.get_session(new.cookie, now=T0 + MIN)
    assert got.user == user and got.second_factor
    assert got.created == T0 and got.last_seen == T0 + MIN
    assert got.expires == T0 + timedelta(hours=12)
    assert got.idle_expires == T0 + 31 * MIN
    assert got.csrf_token == new.csrf_token
    assert new.cookie not in repr(got) and new.csrf_token not in repr(got)
    assert got.session_id != new.cookie
    assert store.create_session(user, second_factor=False, now=T0) != new


def test_idle_timeout(store: AuthStore) -> None:
    new = store.create_session(uuid4(), second_factor=False, now=T0)
    store.get_session(new.cookie, now=T0 + 29 * MIN)
    store.get_session(new.cookie, now=T0 + 58 * MIN)  # each use restarts the idle timer
    with pytest.raises(AuthenticationFailed):
        store.get_session(new.cookie, now=T0 + 88 * MIN)  # exactly 30 min idle


def test_absolute_timeout(store: AuthStore) -> None:
    new = store.create_session(uuid4(), second_factor=False, now=T0)
    when = T0
    while when + 20 * MIN < T0 + timedelta(hours=12):
        when += 20 * MIN
        got = store.get_session(new.cookie, now=when)
        assert got.idle_expires <= T0 + timedelta(hours=12)
    with pytest.raises(AuthenticationFailed):
        store.get_session(new.cookie, now=T0 + timedelta(hours=12))


def test_configurable_lifetimes(engine: Engine, cipher: FieldCipher) -> None:
    st = AuthStore(engine, cipher, AuthPolicy(session_idle=5 * MIN, session_absolute=60 * MIN))
    new = st.create_session(uuid4(), second_factor=False, now=T0)
    st.get_session(new.cookie, now=T0 + 4 * MIN)
    with pytest.raises(AuthenticationFailed):
        st.get_session(new.cookie, now=T0 + 10 * MIN)


def test_unknown_and_malformed_cookies(store: AuthStore) -> None:
    store.create_session(uuid4(), second_factor=False, now=T0)
    for cookie in ("", "x", "ü" * 10, "a" * 10_000, "A" * 43):
        with pytest.raises(AuthenticationFailed) as info:
            store.get_session(cookie, now=T0)
        assert str(info.value) == "session not valid; sign in again"


def test_revoke(store: AuthStore) -> None:
    user = uuid4()
    one = store.create_session(user, second_factor=False, now=T0)
    two = store.create_session(user, second_factor=False, now=T0)
    other = store.create_session(uuid4(), second_factor=False, now=T0)
    session = store.get_session(one.cookie, now=T0)
    assert store.revoke_session(session.session_id, now=T0)
    assert not store.revoke_session(session.session_id, now=T0)
    with pytest.raises(AuthenticationFailed):
        store.get_session(one.cookie, now=T0)
    store.get_session(two.cookie, now=T0)
    assert store.revoke_all(user, now=T0) == 1
    with pytest.raises(AuthenticationFailed):
        store.get_session(two.cookie, now=T0)
    store.get_session(other.cookie, now=T0)


def test_csrf(store: AuthStore) -> None:
    a = store.create_session(uuid4(), second_factor=False, now=T0)
    b = store.create_session(uuid4(), second_factor=False, now=T0)
    session = store.get_session(a.cookie, now=T0)
    AuthStore.check_csrf(session, a.csrf_token)
    store.check_csrf(session, session.csrf_token)
    for bad in (b.csrf_token, "", None, a.csrf_token[:-1], a.csrf_token + "x", a.cookie):
        with pytest.raises(CsrfError) as info:
            store.check_csrf(session, bad)
        assert a.csrf_token not in str(info.value)
        if bad:
            assert bad not in str(info.value)


def test_prune(store: AuthStore) -> None:
    from sqlalchemy import func, select

    from svidok.auth import _schema as s

    live = store.create_session(uuid4(), second_factor=False, now=T0)
    store.create_session(uuid4(), second_factor=False, now=T0 - timedelta(hours=13))
    gone = store.create_session(uuid4(), second_factor=False, now=T0)
    store.revoke_session(store.get_session(gone.cookie, now=T0).session_id, now=T0)
    store.prune(now=T0)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(s.sessions)).scalar_one() == 1
    store.get_session(live.cookie, now=T0)
