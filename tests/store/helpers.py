"""Helpers shared by the store tests: adding content, and ocfl-py as an independent judge."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ocfl
from ocfl.validator import Validator

import svidok
from svidok.store import NewObject, OcflStore, StoreProblem

from .ocfl_py_validate import register

HERE = Path(__file__).resolve().parent
SRC = Path(svidok.__file__).resolve().parents[1]  # where svidok is imported from
WHEN = datetime(2024, 5, 1, 12, 30, 0, tzinfo=UTC)
_counter = itertools.count()

register()  # ocfl-py learns extension 0004 (written from the extension text, not Svidok's code)


def put(
    store: OcflStore, staging: Path, data: bytes, name: str = "original.bin", **kwargs: Any
) -> tuple[str, Path]:
    """Write ``data`` to a file in ``staging`` and add it as a new object."""
    digest = hashlib.sha256(data).hexdigest()
    incoming = staging / f"incoming-{os.getpid()}-{next(_counter)}"
    incoming.write_bytes(data)
    args: dict[str, Any] = {
        "digest_hex": digest,
        "size": len(data),
        "logical_name": name,
        "created": WHEN,
        "message": "Original as received",
        "user_name": "Svidok test",
        "user_address": "mailto:test@example.org",
        "staging_dir": staging,
    }
    args.update(kwargs)
    object_id = OcflStore.object_id(digest)
    staging_dir, durable = args.pop("staging_dir"), args.pop("durable", True)
    new = NewObject(object_id, incoming, **args)  # type: ignore[arg-type]
    return object_id, store.add_object(new, staging_dir=staging_dir, durable=durable)  # type: ignore[arg-type]


def errors(problems: list[StoreProblem]) -> list[StoreProblem]:
    return [p for p in problems if p.severity == "error"]


def kinds(problems: list[Any]) -> set[str]:
    return {p.kind.value for p in problems if isinstance(p, StoreProblem) and p.severity == "error"}


def ocfl_py_object(path: Path, *, check_digests: bool = True) -> tuple[bool, str]:
    """ocfl-py's verdict on one object: (valid, messages)."""
    validator = Validator(check_digests=check_digests, log_warnings=False)
    valid = validator.validate_object(str(path))
    return bool(valid), validator.status_str()


def ocfl_py_root(root: Path) -> tuple[bool, int, int, list[Any]]:
    """ocfl-py's verdict on a storage root: (root ok, objects, valid objects, errors).

    ``StorageRoot.validate()`` in ocfl-py 2.1 returns True even when objects are
    invalid, so callers must also compare the object counts.
    """
    logging.disable(logging.INFO)
    try:
        sr = ocfl.StorageRoot(root=str(root))
        ok = sr.validate(log_warnings=False, check_digests=True)
    finally:
        logging.disable(logging.NOTSET)
    return bool(ok), sr.num_objects, sr.good_objects, list(sr.errors)


def ocfl_validate_script(*paths: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``ocfl-validate.py`` (with 0004 registered) on ``paths``."""
    cmd = [sys.executable, str(HERE / "ocfl_py_validate.py"), "-q", *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def make_writable(path: Path) -> None:
    """Store files are read-only; tests that damage them make them writable first."""
    path.chmod(0o644)
