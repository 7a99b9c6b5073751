"""A Svidok data home: one folder holding the OCFL store, the ledger, the catalog and keys.

::

    svidok-data/
      svidok.toml        settings (config.py)
      keys/ledger.key    Ed25519 signing key, C2SP note private-key encoding, mode 0600
      keys/ledger.pub    the verifier key to publish (C2SP vkey)
      keys/fields.key    AES-256 key sealing protected fields (witness identities), 0600
      auth.sqlite        passwords (argon2id), token hashes, sessions (svidok.auth)
      store/             OCFL 1.1 storage root (the bytes)
      ledger/            custody ledger and checkpoints (the truth about state)
      catalog.sqlite     SQL projection of the ledger (derived); absent when svidok.toml's
                         catalog.url names a PostgreSQL database instead
      work/run-*/        one per running command: staging/ (files being received, on the
                         same file system as store/) and intents/ (objects being moved into
                         the store, until the ledger names them); locked while the run lives
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from svidok._fs import atomic_write, fsync_dir
from svidok.config import CONFIG_FILE, ENV_CATALOG_URL, Config
from svidok.errors import ConfigError, FormatError, HomeError, HomeExistsError, HomeNotFoundError
from svidok.ledger.entries import Draft, Entry
from svidok.ledger.log import Ledger, SignedCheckpoint
from svidok.ledger.note import Signer, Verifier
from svidok.protect import FieldCipher
from svidok.store.ocfl import OcflStore

if TYPE_CHECKING:
    from svidok.catalog import Catalog
    from svidok.timestamps import Outcome, Timestamps

DEFAULT_HOME = "svidok-data"
#: Checkpoints time-stamped per TSA after a command (`svidok timestamp` asks for the rest).
AUTO_TIMESTAMPS = 8
#: Seconds a TSA that failed is left alone by the automatic time-stamping of this process.
TSA_RETRY_AFTER = 300.0
ENV_HOME = "SVIDOK_HOME"


def resolve_home(option: str | os.PathLike[str] | None) -> Path:
    """``--home`` if given, else ``$SVIDOK_HOME``, else ``./svidok-data``."""
    value = option if option is not None else os.environ.get(ENV_HOME) or DEFAULT_HOME
    return Path(value).absolute()


@dataclass(frozen=True)
class InitResult:
    home: Path
    origin: str
    vkey: str
    key_id: str


class Home:
    """An open data home. Use as a context manager, or call ``close``."""

    def __init__(
        self,
        path: Path,
        config: Config,
        signer: Signer | None,
        verifier: Verifier,
        store: OcflStore,
        ledger: Ledger,
        catalog: Catalog | _CatalogOpening,
    ) -> None:
        self.path = path
        self.config = config
        self.signer = signer
        self.verifier = verifier
        self.store = store
        self.ledger = ledger
        self._catalog: Catalog | None = None
        self._opening: _CatalogOpening | None = None
        if isinstance(catalog, _CatalogOpening):
            self._opening = catalog
        else:
            self._catalog = catalog
        self.work = path / "work"
        #: where one-line notices go (the automatic time-stamping's failures): stderr
        self.notify: Callable[[str], None] = _stderr_line
        self._stamping = threading.Lock()
        self._tsa_down: dict[str, float] = {}  # TSA name -> monotonic time to try again

    # ---------------------------------------------------------------- creating
    @classmethod
    def init(
        cls,
        path: Path,
        *,
        origin: str | None = None,
        actor: str = "",
        catalog_url: str | None = None,
    ) -> InitResult:
        """Create a new data home at ``path`` (absent, or an empty folder).

        The catalog is ``catalog_url``, else ``$SVIDOK_CATALOG_URL``, else SQLite in the home.
        """
        path = path.absolute()
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise HomeExistsError(f"{path} already exists and is not empty; refusing to overwrite")
        config = Config.new(origin, catalog_url or os.environ.get(ENV_CATALOG_URL) or None)
        try:
            signer = Signer.generate(config.origin)
        except FormatError as exc:
            raise ConfigError(f"cannot use {config.origin!r} as the log's origin: {exc}") from exc
        tmp = path.with_name(f".{path.name}.init-{os.getpid()}")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(mode=0o700, parents=True)
        try:
            keys = tmp / "keys"
            keys.mkdir(mode=0o700)
            atomic_write(keys / "ledger.key", (signer.to_skey() + "\n").encode(), mode=0o600)
            vkey = signer.verifier().to_vkey()
            atomic_write(keys / "ledger.pub", (vkey + "\n").encode())
            FieldCipher.load_or_create(keys / "fields.key")
            OcflStore.init(tmp / "store")
            ledger = Ledger.create(tmp / "ledger", config.origin, signer)
            from svidok.catalog import Catalog

            catalog = Catalog.create(config.catalog_url, tmp / "catalog.sqlite")
            (tmp / "work").mkdir()
            atomic_write(tmp / CONFIG_FILE, config.to_toml().encode())
            home = cls(
                tmp,
                config,
                signer,
                signer.verifier(),
                OcflStore.open(tmp / "store"),
                ledger,
                catalog,
            )
            with home.writing():
                home.commit(
                    [
                        Draft(
                            "init",
                            actor,
                            {
                                "home": config.home_id,
                                "origin": config.origin,
                                "vkey": vkey,
                                "store": {
                                    "spec": "ocfl_1.1",
                                    "digest": "sha256",
                                    "layout": "0004-hashed-n-tuple-storage-layout",
                                },
                                "tree": "RFC 9162 SHA-256",
                                "entries": "RFC 8785",
                            },
                        ),
                        Draft(
                            "key",
                            actor,
                            {
                                "event": "created",
                                "vkey": vkey,
                                "key_id": signer.key_id.hex(),
                                "algorithm": "Ed25519",
                            },
                        ),
                    ]
                )
            home.close()
            if path.exists():
                path.rmdir()
            tmp.rename(path)
            fsync_dir(path.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return InitResult(path, config.origin, vkey, signer.key_id.hex())

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: Path, *, catalog_in_background: bool = False) -> Home:
        """Open the home at ``path``.

        With ``catalog_in_background`` the catalog (SQLAlchemy, its database, a migration
        for a home of an earlier version) is opened on a thread of its own while the caller
        goes on, and :attr:`catalog` waits for it; its errors are raised there. Intake uses
        this to start copying files at once.
        """
        path = path.absolute()
        try:
            config = Config.load(path / CONFIG_FILE)
        except FileNotFoundError:
            raise HomeNotFoundError(
                f"no Svidok data home at {path} (create one with `svidok init`, or give "
                f"--home / {ENV_HOME})"
            ) from None
        try:
            vkey = (path / "keys" / "ledger.pub").read_text(encoding="utf-8").strip()
            verifier = Verifier.from_vkey(vkey)
        except (OSError, FormatError) as exc:
            raise HomeError(f"cannot read the ledger's public key: {exc}") from exc
        signer: Signer | None = None
        key_path = path / "keys" / "ledger.key"
        if key_path.exists():
            try:
                signer = Signer.from_skey(key_path.read_text(encoding="utf-8").strip())
            except (OSError, FormatError) as exc:
                raise HomeError(f"cannot read the signing key {key_path}: {exc}") from exc
            if signer.verifier().to_vkey() != verifier.to_vkey():
                raise HomeError(f"{key_path} does not match keys/ledger.pub")
        store = OcflStore.open(path / "store")
        ledger = Ledger(path / "ledger", config.origin, verifier, signer)
        opening = _CatalogOpening(config.catalog_url, path / "catalog.sqlite")
        if not catalog_in_background:
            opening.run()
        home = cls(path, config, signer, verifier, store, ledger, opening)
        if not catalog_in_background:
            home.catalog  # noqa: B018 - opened (and migrated) now, its errors raised here
        else:
            opening.start()
        return home

    @property
    def catalog(self) -> Catalog:
        """The catalog; a home opened with ``catalog_in_background`` waits for it here."""
        catalog = self._catalog
        if catalog is not None:
            return catalog
        assert self._opening is not None
        catalog, current = self._opening.result()
        if not current:  # a home made by an earlier version: new tables
            with self.ledger.locked(), self._opening.lock:
                if self._catalog is None and not catalog.is_current():
                    catalog.migrate()
        self._catalog = catalog
        return catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
        elif self._opening is not None:
            self._opening.close()

    def __enter__(self) -> Home:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writing
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the ledger lock; recover what a crash left; sign a checkpoint at the end;
        then, outside the lock, ask the configured TSAs to time-stamp it."""
        outermost = not self.ledger.held()
        with self.ledger.locked():
            self._catch_up()
            self._recover_intents()
            yield
            self.ledger.sign()
        if outermost and self.config.tsas:
            self.timestamp_pending()

    # -------------------------------------------------------------- trusted time
    def timestamps(self) -> Timestamps:
        from svidok.timestamps import Timestamps

        return Timestamps(self.ledger.dir, self.path, self.config)

    def timestamp_pending(self, limit: int = AUTO_TIMESTAMPS) -> list[Outcome]:
        """Ask each configured TSA for the newest pending time-stamps (never raises: a
        failure leaves them pending, says so through ``notify`` and rests that TSA)."""
        with self._stamping:
            now = time.monotonic()
            resting = {name for name, until in self._tsa_down.items() if until > now}
            try:
                outcomes = self.timestamps().request(limit=limit, skip=resting)
            except Exception as exc:  # a timestamp never fails the command that signed
                self.notify(f"svidok: timestamps not requested: {exc}")
                return []
            for o in outcomes:
                if o.status == "failed":
                    self._tsa_down[o.tsa] = now + TSA_RETRY_AFTER
                    self.notify(
                        f"svidok: checkpoint {o.size} left without a timestamp from {o.tsa!r} "
                        f"({o.message}); `svidok timestamp` asks again"
                    )
            return outcomes

    def commit(self, drafts: Sequence[Draft]) -> list[Entry]:
        """Append entries durably, then project them into the catalog."""
        entries = self.ledger.append(drafts)
        self.catalog.apply(entries)
        return entries

    def _catch_up(self) -> None:
        applied = self.catalog.applied()
        if applied > self.ledger.size:
            raise HomeError(
                f"the catalog reflects {applied} ledger entries but the ledger has only "
                f"{self.ledger.size}; run `svidok verify` and `svidok rebuild`"
            )
        batch: list[Entry] = []
        for entry in self.ledger.iter_entries(applied):
            batch.append(entry)
            if len(batch) >= 1000:
                self.catalog.apply(batch)
                batch = []
        self.catalog.apply(batch)

    # --------------------------------------------------------------- workspaces
    @contextmanager
    def workspace(self) -> Iterator[Workspace]:
        """A private folder for one run's staging files and intents, locked while it lives."""
        path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=self.work))
        (path / "staging").mkdir()
        (path / "intents").mkdir()
        fd = os.open(path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield Workspace(path)
        finally:
            shutil.rmtree(path, ignore_errors=True)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def pending_intents(self) -> list[Intent]:
        """Intents of every workspace, live or abandoned (for ``svidok verify``)."""
        return [
            intent
            for path in sorted(self.work.glob("run-*/intents/*.json"))
            for intent in _read_intents(path)
        ]

    def placed_by(self, intent: Intent) -> bool:
        """Whether the store holds exactly the object this intent's run prepared."""
        return bool(intent.object_id) and (
            self.store.inventory_digest(intent.object_id) == intent.inventory_digest
        )

    def _recover_intents(self) -> None:
        """Complete intake that a crash interrupted after an object reached the store.

        Only workspaces whose owner is gone (their lock can be taken) are touched.
        """
        for run in sorted(self.work.glob("run-*")):
            if not run.is_dir() or run.is_symlink():
                continue
            try:
                fd = os.open(run / "lock", os.O_RDWR)
            except OSError:
                shutil.rmtree(run, ignore_errors=True)
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a live run owns it
                recovered: list[Draft] = []
                for path in sorted((run / "intents").glob("*.json")):
                    for intent in _read_intents(path):
                        if self.placed_by(intent) and not self.catalog_has_object(intent.object_id):
                            recovered.extend(intent.drafts)
                if recovered:
                    self.commit(recovered)
                shutil.rmtree(run, ignore_errors=True)
            finally:
                os.close(fd)

    def catalog_logical_path(self, object_id: str) -> str | None:
        """The stored object's logical path as the catalog knows it, None if unknown."""
        from sqlalchemy import select

        from svidok.catalog import schema

        with self.catalog.engine.connect() as conn:
            return conn.execute(
                select(schema.objects.c.logical_path).where(schema.objects.c.id == object_id)
            ).scalar_one_or_none()

    def catalog_has_object(self, object_id: str) -> bool:
        return self.catalog_logical_path(object_id) is not None

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        return self.ledger.latest_checkpoint()


class _CatalogOpening:
    """Opening the catalog, now (:meth:`run`) or on a thread of its own (:meth:`start`):
    importing SQLAlchemy, connecting, and asking whether the schema is current."""

    def __init__(self, url: str | None, sqlite_path: Path) -> None:
        self._url, self._sqlite_path = url, sqlite_path
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._catalog: Catalog | None = None
        self._current = False
        self._error: BaseException | None = None
        self.lock = threading.Lock()  # taken after the ledger lock, for a migration

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="svidok-catalog", daemon=True)
        self._thread.start()

    def run(self) -> None:
        try:
            from svidok.catalog import Catalog

            self._catalog = Catalog.for_home(self._url, self._sqlite_path)
            self._current = self._catalog.is_current()
        except BaseException as exc:  # raised again to whoever asks for the catalog
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> tuple[Catalog, bool]:
        """The opened catalog and whether its schema is current; the opening's error."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._catalog is not None
        return self._catalog, self._current

    def close(self) -> None:
        self._done.wait()
        if self._catalog is not None:
            self._catalog.close()


def _stderr_line(message: str) -> None:
    print(" ".join(message.split()), file=sys.stderr, flush=True)


class Workspace:
    """One run's private folders inside ``work/``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.staging = path / "staging"
        self.intents = path / "intents"
        self._names = itertools.count()
        self._names_lock = threading.Lock()

    def new_staging_file(self) -> Path:
        """A fresh name in staging (thread-safe)."""
        with self._names_lock:
            return self.staging / f"{next(self._names):08d}.bin"

    def write_intents(self, name: str, objects: Sequence[tuple[str, Sequence[Draft]]]) -> Path:
        """Record, before objects enter the store, the entries that will account for them.

        One file per batch: for each object, the SHA-256 of the inventory this run prepared
        (only if the store holds that very object was it placed by this run) and its
        entries. Made durable by the caller's ``syncfs`` before any object moves.
        """
        doc = [
            {
                "inventory_sha256": inventory_digest,
                "entries": [{"type": d.type, "actor": d.actor, "data": d.data} for d in drafts],
            }
            for inventory_digest, drafts in objects
        ]
        try:
            data = orjson.dumps(doc)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
            data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        path = self.intents / f"{name}.json"
        atomic_write(path, data, durable=False)
        return path


@dataclass(frozen=True)
class Intent:
    path: Path
    inventory_digest: str
    drafts: tuple[Draft, ...]

    @property
    def object_id(self) -> str:
        return str(self.drafts[0].data.get("object", "")) if self.drafts else ""


def _read_intents(path: Path) -> list[Intent]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [
            Intent(
                path,
                str(item["inventory_sha256"]),
                tuple(Draft(d["type"], d["actor"], d["data"]) for d in item["entries"]),
            )
            for item in doc
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return []
