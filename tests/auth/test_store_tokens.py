"""The auth store: API tokens (expiry, revocation, scope, one generic refusal)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from svidok.auth import AuthPolicy, AuthStore
from svidok.auth import _schema as s
from svidok.errors import AccessDenied, AuthenticationFailed, TokenFormatError, TokenPolicyError
from svidok.protect import FieldCipher

from .helpers import T0

DAY = timedelta(days=1)


def test_create_and_authenticate(store: AuthStore) -> None:
    user, case = uuid4(), uuid4()
    info, text = store.create_token(user, [case], 30 * DAY, now=T0)
    assert text.startswith(f"svidok_{info.token_id}_")
    assert (info.user, info.cases, info.created, info.expires) == (
        user,
        frozenset({case}),
        T0,
        T0 + 30 * DAY,
    )
    got = store.authenticate_token(text, now=T0 + DAY)
    assert got == info
    assert got.created.tzinfo is not None and got.expires == T0 + 30 * DAY


def test_scope(store: AuthStore) -> None:
    user, a, b, c = uuid4(), uuid4(), uuid4(), uuid4()
    scoped, text = store.create_token(user, [a, b, a], DAY, now=T0)
    assert scoped.cases == frozenset({a, b})
    got = store.authenticate_token(text, now=T0)
    assert got.allows(a) and got.allows(b) and not got.allows(c)
    got.require_case(a)
    with pytest.raises(AccessDenied, match=got.token_id):
        got.require_case(c)
    everything, text_all = store.create_token(user, None, DAY, now=T0)
    assert everything.cases is None
    assert store.authenticate_token(text_all, now=T0).allows(c)
    with pytest.raises(TokenPolicyError):
        store.create_token(user, [], DAY, now=T0)


def test_expiry_is_required_and_bounded(store: AuthStore) -> None:
    user = uuid4()
    store.create_token(user, None, 90 * DAY, now=T0)
    for bad in (90 * DAY + timedelta(seconds=1), timedelta(0), -DAY):
        with pytest.raises(TokenPolicyError, match="90 days"):
            store.create_token(user, None, bad, now=T0)


def test_maximum_is_configurable(engine: object, cipher: FieldCipher) -> None:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    short = AuthStore(engine, cipher, AuthPolicy(token_max_lifetime=7 * DAY))
    short.create_token(uuid4(), None, 7 * DAY, now=T0)
    with pytest.raises(TokenPolicyError, match="7 days"):
        short.create_token(uuid4(), None, 8 * DAY, now=T0)


def test_expired_revoked_unknown_wrong_all_look_the_same(store: AuthStore) -> None:
    user = uuid4()
    _info, text = store.create_token(user, None, DAY, now=T0)
    revoked_info, revoked = store.create_token(user, None, 10 * DAY, now=T0)
    assert store.revoke_token(revoked_info.token_id, now=T0 + timedelta(hours=1))
    assert not store.revoke_token(revoked_info.token_id, now=T0 + timedelta(hours=2))
    assert not store.revoke_token("nosuchtoken0", now=T0)
    store.authenticate_token(text, now=T0 + DAY - timedelta(seconds=1))
    unknown = "svidok_aaaaaaaaaaaa_" + text[-43:]
    wrong_secret = text[:20] + ("B" if text[20] == "A" else "A") + text[21:]
    messages = set()
    for candidate, when in (
        (text, T0 + DAY),  # expired, exactly at the end
        (text, T0 + 2 * DAY),
        (revoked, T0 + timedelta(hours=2)),
        (unknown, T0),
        (wrong_secret, T0),
    ):
        with pytest.raises(AuthenticationFailed) as exc:
            store.authenticate_token(candidate, now=when)
        assert type(exc.value) is AuthenticationFailed
        assert candidate not in str(exc.value) and candidate[20:] not in str(exc.value)
        messages.add(str(exc.value))
    assert messages == {"API token not accepted"}
    with pytest.raises(TokenFormatError):
        store.authenticate_token("Bearer something", now=T0)


def test_list_and_revoke_all(store: AuthStore) -> None:
    user, other = uuid4(), uuid4()
    first, _ = store.create_token(user, None, DAY, now=T0)
    second, _ = store.create_token(user, None, DAY, now=T0 + timedelta(minutes=1))
    store.create_token(other, None, DAY, now=T0)
    assert [t.token_id for t in store.list_tokens(user)] == [first.token_id, second.token_id]
    assert store.list_tokens(uuid4()) == []
    session = store.create_session(user, second_factor=False, now=T0)
    assert store.revoke_all(user, include_tokens=False, now=T0) == 1
    assert all(t.revoked is None for t in store.list_tokens(user))
    assert store.revoke_all(user, now=T0 + timedelta(minutes=2)) == 2
    assert all(t.revoked == T0 + timedelta(minutes=2) for t in store.list_tokens(user))
    assert all(t.revoked is None for t in store.list_tokens(other))
    with pytest.raises(AuthenticationFailed):
        store.get_session(session.cookie, now=T0)


def test_only_the_hash_is_stored(store: AuthStore) -> None:
    info, text = store.create_token(uuid4(), None, DAY, now=T0)
    secret = text[len("svidok_") + 13 :]
    with store.engine.connect() as conn:
        row = conn.execute(select(s.tokens).where(s.tokens.c.token_id == info.token_id)).one()
    assert secret not in repr(tuple(row)) and text not in repr(tuple(row))
    assert len(row.secret_sha256) == 64
