"""Svidok's exception tree.

Every error Svidok raises on purpose derives from :class:`SvidokError`; the CLI turns
each into a one-line message and an exit status, never a stack trace::

    SvidokError
    ├── HomeError                 the data home is missing, exists already, or is unusable
    │   ├── HomeExistsError
    │   └── HomeNotFoundError
    ├── ConfigError               svidok.toml cannot be read or has bad values
    ├── StoreError                the OCFL storage root
    │   ├── ObjectExistsError     an object with that id is already stored
    │   ├── ObjectNotFoundError
    │   └── PathEscapeError       a resolved path would leave the storage root
    ├── LedgerError               the custody ledger
    │   ├── LedgerCorruptError    entries do not match what was signed, or cannot be parsed
    │   ├── LedgerLockedError     another process holds the ledger lock too long
    │   └── InconsistentTreeError refusing to sign a tree inconsistent with one already signed
    ├── FormatError               a note, checkpoint, receipt or key has bad syntax
    ├── SignatureError            a signature is missing, unknown or does not verify
    ├── ProofError                an inclusion or consistency proof does not verify
    ├── IntakeError               a file could not be preserved
    │   └── CaptureError          a web capture failed or was refused (nothing is stored)
    ├── ExtractionError           metadata extraction failed (recorded, never fatal to intake)
    ├── SearchError               a search query or filter is not valid
    ├── ProtectedDataError        a protected field cannot be decrypted (wrong key or context,
    │   │                         or altered); never echoes the value
    │   └── FieldKeyError         the field-encryption key file is missing, unsafe or malformed
    └── AuthError                 access control (messages never hold passwords, codes, secrets)
        ├── AuthenticationFailed  one generic refusal: wrong password, unknown user, unknown,
        │   │                     expired or revoked token or session, wrong or replayed code
        │   └── TokenFormatError  the text is not a Svidok API token at all
        ├── LoginThrottled        too many failures; ``retry_after`` seconds to wait
        ├── PasswordPolicyError   a new password is too short, too long or too uniform
        ├── TokenPolicyError      a token's lifetime or scope is not allowed
        ├── TotpError             TOTP is not in the state asked for (not set up, already on)
        ├── UnknownUserError      no credentials are stored for that user
        ├── CsrfError             a request's CSRF token does not match its session
        └── AccessDenied          the credential does not cover what was asked (token scope)
"""

from __future__ import annotations


class SvidokError(Exception):
    """Base class of every error Svidok raises on purpose."""


class HomeError(SvidokError):
    """The data home is missing, already exists, or cannot be used."""


class HomeExistsError(HomeError):
    """Refusing to initialise over an existing data home."""


class HomeNotFoundError(HomeError):
    """No data home at the given place."""


class ConfigError(SvidokError):
    """The configuration cannot be read or has bad values."""


class StoreError(SvidokError):
    """A problem with the OCFL storage root."""


class ObjectExistsError(StoreError):
    """An object with that id is already stored."""


class ObjectNotFoundError(StoreError):
    """No object with that id is stored."""


class PathEscapeError(StoreError):
    """A path would resolve outside the storage root."""


class LedgerError(SvidokError):
    """A problem with the custody ledger."""


class LedgerCorruptError(LedgerError):
    """The ledger's entries cannot be parsed or do not match what was signed."""


class LedgerLockedError(LedgerError):
    """The ledger lock could not be taken in time."""


class InconsistentTreeError(LedgerError):
    """Refusing to sign a tree that is inconsistent with a checkpoint already signed."""


class FormatError(SvidokError):
    """A note, checkpoint, receipt or key has bad syntax."""


class SignatureError(SvidokError):
    """A signature is missing, made by an unknown key, or does not verify."""


class ProofError(SvidokError):
    """An inclusion or consistency proof does not verify."""


class IntakeError(SvidokError):
    """A file could not be preserved."""


class CaptureError(IntakeError):
    """A web capture failed or was refused (bad URL, limit, timeout, redirect loop)."""


class ExtractionError(SvidokError):
    """Metadata extraction failed; recorded on the item, never fatal to intake."""


class SearchError(SvidokError):
    """A search query or filter is not valid (the message says what to change)."""


class ProtectedDataError(SvidokError):
    """A protected value cannot be decrypted: wrong key, wrong context, or altered.

    The message never contains the value, encrypted or not."""


class FieldKeyError(ProtectedDataError):
    """The field-encryption key file is missing, unsafe (readable by others) or malformed."""


class AuthError(SvidokError):
    """Access control refused or failed. Messages never contain passwords, TOTP codes,
    API tokens, session cookies or any other secret."""


class AuthenticationFailed(AuthError):
    """One generic refusal for every bad credential, so that none can be told apart."""


class TokenFormatError(AuthenticationFailed):
    """The text given as an API token does not have the form of one."""


class LoginThrottled(AuthError):
    """Too many failed attempts for this user or client; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-in attempts; try again in {retry_after} s")


class PasswordPolicyError(AuthError):
    """A new password does not meet the minimum policy."""


class TokenPolicyError(AuthError):
    """An API token's lifetime or scope is not allowed."""


class TotpError(AuthError):
    """TOTP is not in the state the operation needs (not set up, not confirmed, already on)."""


class UnknownUserError(AuthError):
    """No credentials are stored for that user."""


class CsrfError(AuthError):
    """A request's CSRF token is missing or does not match its session."""


class AccessDenied(AuthError):
    """The credential is valid but does not cover what was asked (for example a case
    outside an API token's scope)."""
