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
    └── ExtractionError           metadata extraction failed (recorded, never fatal to intake)
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


class ExtractionError(SvidokError):
    """Metadata extraction failed; recorded on the item, never fatal to intake."""
