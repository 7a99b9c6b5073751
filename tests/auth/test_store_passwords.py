"""The auth store: passwords, throttling, rehashing, schema."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import argon2
import pytest
from sqlalchemy import inspect, select, text, update

from svidok.auth import AuthStore
from svidok.auth import _schema as s
from svidok.errors import AuthenticationFailed, LoginThrottled, PasswordPolicyError

from .helpers import T0, USER_PASSWORD


def test_schema_own_version_table(store: AuthStore) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {
        "auth_credentials",
        "auth_tokens",
        "auth_sessions",
        "auth_login_attempts",
        "auth_alembic_version",
    } <= names
    assert "alembic_version" not in names
    assert not store.needs_migration()
    store.migrate()  # again: nothing to do


def test_migrations_match_the_tables(store: AuthStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": "auth_alembic_version"}
            ),
            s.metadata,
        )
    assert diff == []


def test_shares_a_database_with_another_alembic_history(
    make_store: Callable[[], AuthStore],
) -> None:
    store = make_store()
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    assert store.needs_migration()
    store.migrate()
    assert not store.needs_migration()
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


def test_right_and_wrong_password(store: AuthStore) -> None:
    user = uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    accepted = store.check_password(user, USER_PASSWORD, client="198.51.100.1", now=T0)
    assert accepted.user == user and not accepted.totp_required
    with pytest.raises(AuthenticationFailed) as wrong:
        store.check_password(user, USER_PASSWORD + "x", client="198.51.100.1", now=T0)
    with pytest.raises(AuthenticationFailed) as unknown:
        store.check_password(uuid4(), USER_PASSWORD, client="198.51.100.1", now=T0)
    assert str(wrong.value) == str(unknown.value) == "authentication failed"


def test_policy_enforced_and_password_replaced(store: AuthStore) -> None:
    user = uuid4()
    with pytest.raises(PasswordPolicyError):
        store.set_password(user, "too short", now=T0)
    store.set_password(user, USER_PASSWORD, now=T0)
    store.set_password(user, "another long passphrase", now=T0)
    with pytest.raises(AuthenticationFailed):
        store.check_password(user, USER_PASSWORD, client="c", now=T0)
    store.check_password(user, "another long passphrase", client="c", now=T0)


def test_user_throttling_backoff_and_reset(store: AuthStore) -> None:
    user = uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    now = T0
    # five failures (from different clients, so only the user's counter matters)
    for i in range(5):
        with pytest.raises(AuthenticationFailed):
            store.check_password(user, "wrong guess " + str(i), client=f"10.0.0.{i}", now=now)
    # now 1 s to wait, even for the right password, and a refused try is not counted
    for _ in range(3):
        with pytest.raises(LoginThrottled) as info:
            store.check_password(user, USER_PASSWORD, client="10.0.1.1", now=now)
        assert info.value.retry_after == 1
        assert USER_PASSWORD not in str(info.value)
    # then doubling: 2 s, 4 s, 8 s ...
    for expected in (2, 4, 8, 16):
        now += timedelta(seconds=expected // 2)
        with pytest.raises(AuthenticationFailed):
            store.check_password(user, "wrong again", client="10.0.1.2", now=now)
        with pytest.raises(LoginThrottled) as info:
            store.check_password(user, USER_PASSWORD, client="10.0.1.3", now=now)
        assert info.value.retry_after == expected
    now += timedelta(seconds=16)
    store.check_password(user, USER_PASSWORD, client="10.0.1.4", now=now)  # resets the user
    for i in range(4):
        with pytest.raises(AuthenticationFailed):
            store.check_password(user, "wrong", client=f"10.0.2.{i}", now=now)
    store.check_password(user, USER_PASSWORD, client="10.0.3.1", now=now)


def test_backoff_is_capped_at_15_minutes(store: AuthStore) -> None:
    user = uuid4()
    now = T0
    waits: list[int] = []
    for i in range(20):
        with pytest.raises(AuthenticationFailed):
            store.check_password(user, "wrong", client=f"10.1.0.{i}", now=now)
        try:
            store.check_password(user, "wrong", client="10.1.1.1", now=now)
        except LoginThrottled as exc:
            waits.append(exc.retry_after)
            now += timedelta(seconds=exc.retry_after)
        except AuthenticationFailed:
            waits.append(0)
            assert i < 2  # the probe was the 2nd or the 4th failure
    assert waits[:2] == [0, 0]
    assert waits[2:12] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert waits[12:] == [900] * 8


def test_client_throttling_spans_users(store: AuthStore) -> None:
    users = [uuid4() for _ in range(6)]
    for u in users:
        store.set_password(u, USER_PASSWORD, now=T0)
    for u in users[:5]:
        with pytest.raises(AuthenticationFailed):
            store.check_password(u, "spray attempt!", client="203.0.113.9", now=T0)
    with pytest.raises(LoginThrottled):
        store.check_password(users[5], USER_PASSWORD, client="203.0.113.9", now=T0)
    # another client is not affected
    store.check_password(users[5], USER_PASSWORD, client="203.0.113.10", now=T0)
    later = T0 + timedelta(seconds=1)
    store.check_password(users[5], USER_PASSWORD, client="203.0.113.9", now=later)


def test_failures_are_forgotten_after_a_quiet_day(store: AuthStore) -> None:
    user = uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    for i in range(4):
        with pytest.raises(AuthenticationFailed):
            store.check_password(user, "wrong", client=f"10.2.0.{i}", now=T0)
    later = T0 + timedelta(days=1, seconds=1)
    with pytest.raises(AuthenticationFailed):  # counts as the first again, not the fifth
        store.check_password(user, "wrong", client="10.2.1.0", now=later)
    store.check_password(user, USER_PASSWORD, client="10.2.1.1", now=later)


def test_old_hash_is_upgraded_on_sign_in(store: AuthStore) -> None:
    user = uuid4()
    store.set_password(user, USER_PASSWORD, now=T0)
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(USER_PASSWORD)
    c = s.credentials.c
    with store.engine.begin() as conn:
        conn.execute(update(s.credentials).where(c.user_id == str(user)).values(password_hash=weak))
    store.check_password(user, USER_PASSWORD, client="c", now=T0)
    with store.engine.connect() as conn:
        stored = conn.execute(select(c.password_hash).where(c.user_id == str(user))).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_client_addresses_are_not_stored_in_clear(store: AuthStore) -> None:
    with pytest.raises(AuthenticationFailed):
        store.check_password(uuid4(), "wrong", client="192.0.2.77", now=T0)
    with store.engine.connect() as conn:
        rows = conn.execute(select(s.login_attempts)).all()
    assert rows and "192.0.2.77" not in repr(rows)


def test_naive_now_refused(store: AuthStore) -> None:
    with pytest.raises(ValueError, match="aware"):
        store.set_password(uuid4(), USER_PASSWORD, now=T0.replace(tzinfo=None))


def test_parallel_guesses_cannot_slip_past_the_counter(
    make_store: Callable[[], AuthStore],
) -> None:
    """Each attempt is counted before its password is checked: of 12 simultaneous
    guesses only 5 get checked, the rest are throttled."""
    first = make_store()
    first.migrate()
    user = uuid4()
    first.set_password(user, USER_PASSWORD, now=T0)
    stores = [make_store() for _ in range(4)]
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def guess(i: int) -> None:
        st = stores[i % len(stores)]
        barrier.wait()
        try:
            st.check_password(user, f"guess number {i}", client=f"10.5.0.{i}", now=T0)
        except LoginThrottled:
            outcomes.append("throttled")
        except AuthenticationFailed:
            outcomes.append("failed")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["failed"] * 5 + ["throttled"] * 7


def test_prune_forgets_quiet_counters(store: AuthStore) -> None:
    from sqlalchemy import func

    with pytest.raises(AuthenticationFailed):
        store.check_password(uuid4(), "wrong", client="10.7.0.1", now=T0)
    store.prune(now=T0 + timedelta(hours=23))
    with store.engine.connect() as conn:
        count = select(func.count()).select_from(s.login_attempts)
        assert conn.execute(count).scalar_one() == 2
    store.prune(now=T0 + timedelta(days=1, seconds=1))
    with store.engine.connect() as conn:
        assert conn.execute(count).scalar_one() == 0
