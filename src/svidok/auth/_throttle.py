"""Sign-in throttling: failure counters per user (password, TOTP) and per client.

Every attempt is counted *before* its password or code is checked, in one short
transaction with atomic updates, and a success takes its count back. So parallel guesses
cannot slip in between the check and the count, and a crash mid-check counts as a
failure. After ``throttle_after`` failures in a row a subject waits ``backoff_first``,
doubling at each further failure up to ``backoff_max``; a counter with no failure for
``forget_failures_after`` starts again from one.

Counters left quiet are deleted by :meth:`AuthStore.prune` (run it now and then), not
here: deleting in the hot path could deadlock parallel attempts on PostgreSQL.

Subjects are a user's UUID, or a client address blinded with the field key (an HMAC), so
the table never holds addresses in clear.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from svidok.auth._model import AuthPolicy
from svidok.auth._schema import login_attempts as t
from svidok.errors import AuthError

PASSWORD = "password"  # noqa: S105 - a counter's scope name, not a password
TOTP = "totp"
CLIENT = "client"
_TRIES = 10


@dataclass(frozen=True)
class Subject:
    scope: str
    subject: str


def _count_one(conn: Connection, key: Subject, now: datetime, policy: AuthPolicy) -> int | None:
    """Count one attempt; return the seconds to wait instead if the subject is blocked."""
    cutoff = now - policy.forget_failures_after
    here = (t.c.scope == key.scope, t.c.subject == key.subject)
    not_blocked = or_(t.c.blocked_until.is_(None), t.c.blocked_until <= now)
    for _ in range(_TRIES):
        counted = conn.execute(
            update(t)
            .where(*here, not_blocked)
            .values(
                failures=case((t.c.last_failure < cutoff, 1), else_=t.c.failures + 1),
                last_failure=now,
            )
        ).rowcount
        if counted:
            break
        row = conn.execute(select(t.c.blocked_until).where(*here)).first()
        if row is not None:
            until: datetime | None = row.blocked_until
            if until is not None and until > now:
                return max(1, math.ceil((until - now).total_seconds()))
            continue  # made or unblocked by a parallel attempt since the update: again
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(t).values(
                        scope=key.scope,
                        subject=key.subject,
                        failures=1,
                        last_failure=now,
                        blocked_until=None,
                    )
                )
            break
        except IntegrityError:  # a parallel attempt made the row first: count again
            continue
    else:
        raise AuthError("the sign-in attempt could not be counted; try again")
    failures = conn.execute(select(t.c.failures).where(*here)).scalar_one()
    wait = policy.backoff(failures)
    if wait is not None:
        conn.execute(update(t).where(*here).values(blocked_until=now + wait))
    return None


def count_attempt(
    conn: Connection, keys: Sequence[Subject], now: datetime, policy: AuthPolicy
) -> int | None:
    """Count an attempt against every key (in a fixed order, so that parallel attempts
    cannot deadlock). Returns the longest wait if any key is blocked; the caller must then
    roll the transaction back, so that a refused attempt counts for none."""
    waits = [_count_one(conn, key, now, policy) for key in sorted(keys, key=_order)]
    blocked = [w for w in waits if w is not None]
    return max(blocked) if blocked else None


def take_back(conn: Connection, user_key: Subject, client_key: Subject, policy: AuthPolicy) -> None:
    """A success: the user's counter starts again; the client's loses this attempt."""
    conn.execute(delete(t).where(t.c.scope == user_key.scope, t.c.subject == user_key.subject))
    conn.execute(
        update(t)
        .where(t.c.scope == client_key.scope, t.c.subject == client_key.subject)
        .where(t.c.failures > 0)
        .values(
            failures=t.c.failures - 1,
            blocked_until=case(
                (t.c.failures - 1 < policy.throttle_after, None), else_=t.c.blocked_until
            ),
        )
    )


def _order(key: Subject) -> tuple[str, str]:
    return (key.scope, key.subject)
