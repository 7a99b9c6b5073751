"""Values the auth store takes and returns. Secrets are kept out of every ``repr``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from svidok.errors import AccessDenied


@dataclass(frozen=True)
class AuthPolicy:
    """Lifetimes and throttling of the auth store. The defaults are the documented ones."""

    token_max_lifetime: timedelta = timedelta(days=90)
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    throttle_after: int = 5  # failures in a row before the first wait
    backoff_first: timedelta = timedelta(seconds=1)
    backoff_max: timedelta = timedelta(minutes=15)
    forget_failures_after: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        for name in ("token_max_lifetime", "session_idle", "session_absolute"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        if self.throttle_after < 1 or self.backoff_first <= timedelta(0):
            raise ValueError("throttling needs throttle_after >= 1 and a positive backoff")
        if self.backoff_max < self.backoff_first:
            raise ValueError("backoff_max must not be shorter than backoff_first")

    def backoff(self, failures: int) -> timedelta | None:
        """How long to refuse after ``failures`` failures in a row (None: not at all).
        With the defaults: 1 s after the 5th, 2 s after the 6th, doubling, at most 15 min."""
        excess = failures - self.throttle_after + 1
        if excess <= 0:
            return None
        first = self.backoff_first.total_seconds()
        limit = self.backoff_max.total_seconds()
        seconds = limit if excess > 64 else min(first * 2 ** (excess - 1), limit)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class PasswordAccepted:
    """A password was right. If ``totp_required``, the sign-in is not complete until
    :meth:`AuthStore.check_totp` succeeds too."""

    user: UUID
    totp_required: bool
    must_change: bool = False  # a one-time password: the user must choose their own now


@dataclass(frozen=True)
class OneTimePassword:
    """A random password set by :meth:`AuthStore.issue_one_time_password`: show it once,
    to the user only. ``revoked_tokens``: ids of the user's API tokens it revoked."""

    password: str = field(repr=False)
    revoked_tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class TotpEnrollment:
    """A TOTP secret being set up: show ``uri`` (as a QR code) or ``secret`` once."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)


@dataclass(frozen=True)
class TokenInfo:
    """An API token's stored description (never its secret).

    ``cases`` is the scope: the case UUIDs it may act on, or None for every case the
    user may reach (the user's own access is checked elsewhere, always)."""

    token_id: str
    user: UUID
    cases: frozenset[UUID] | None
    created: datetime
    expires: datetime
    revoked: datetime | None

    def allows(self, case: UUID) -> bool:
        return self.cases is None or case in self.cases

    def require_case(self, case: UUID) -> None:
        """Raise :class:`AccessDenied` unless the token's scope covers ``case``."""
        if not self.allows(case):
            raise AccessDenied(f"API token {self.token_id} is not scoped to case {case}")


@dataclass(frozen=True)
class NewSession:
    """What :meth:`AuthStore.create_session` hands back, once: the cookie's secret (set
    it ``Secure; HttpOnly; SameSite=Lax``) and the CSRF token for forms."""

    cookie: str = field(repr=False)
    csrf_token: str = field(repr=False)


@dataclass(frozen=True)
class Session:
    """A live browser session. ``session_id`` is SHA-256 of the cookie, not the cookie.
    ``csrf_token`` is derived again from the cookie at every look-up, so pages can embed
    it; only its hash is stored. ``must_change_password``: the user's password is a
    one-time password, read afresh at every look-up; only changing it may be done."""

    session_id: str
    user: UUID
    created: datetime
    last_seen: datetime
    expires: datetime
    idle_expires: datetime
    second_factor: bool
    csrf_sha256: str = field(repr=False)
    csrf_token: str = field(repr=False, compare=False)
    must_change_password: bool = False  # signed in with a one-time password
