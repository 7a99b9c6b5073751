"""Access control building blocks: passwords, TOTP, API tokens, sessions, throttling.

Public surface::

    AuthStore            the store (store.py); AuthPolicy its lifetimes and throttling
    PasswordAccepted     check_password's answer (is a TOTP code needed too? must the
                         one-time password be changed now?)
    OneTimePassword      a random password set for one use, shown once
    TotpEnrollment       a new TOTP secret and its otpauth:// URI, shown once
    TokenInfo            an API token's description and scope (never its secret)
    NewSession, Session  a new session's cookie and CSRF token; a live session

The primitives are in :mod:`svidok.auth.passwords` (Argon2id), :mod:`svidok.auth.totp`
(RFC 6238) and :mod:`svidok.auth.tokens` (token format); field encryption is
:mod:`svidok.protect`. Errors are the ``AuthError`` subtree of :mod:`svidok.errors`.
"""

from svidok.auth._model import (
    AuthPolicy,
    NewSession,
    OneTimePassword,
    PasswordAccepted,
    Session,
    TokenInfo,
    TotpEnrollment,
)
from svidok.auth.store import AuthStore

__all__ = [
    "AuthPolicy",
    "AuthStore",
    "NewSession",
    "OneTimePassword",
    "PasswordAccepted",
    "Session",
    "TokenInfo",
    "TotpEnrollment",
]
