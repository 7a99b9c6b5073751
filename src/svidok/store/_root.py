"""The storage root itself: its constants, object ids and paths, and opening what it holds.

Also writes a new root's own files (declaration, layout) and checks an existing root's.
Everything is opened relative to a folder descriptor without following symbolic links.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from svidok._fs import atomic_write, fsync_dir
from svidok.errors import ObjectNotFoundError, PathEscapeError, StoreError
from svidok.store import _confined as cf
from svidok.store.inventory import load_json
from svidok.store.layout import EXTENSION_NAME, HashedNTupleLayout, layout_file_bytes
from svidok.store.problems import ProblemKind, StoreProblem

SPEC_VERSION = "1.1"
ROOT_DECLARATION = f"0=ocfl_{SPEC_VERSION}"
OBJECT_DECLARATION = f"0=ocfl_object_{SPEC_VERSION}"
LAYOUT_FILE = "ocfl_layout.json"
EXTENSIONS_DIR = "extensions"
LAYOUT_CONFIG = (EXTENSIONS_DIR, EXTENSION_NAME, "config.json")
SMALL_LIMIT = 64 * 1024  # declaration, sidecar, layout files
INVENTORY_LIMIT = 64 * 1024 * 1024
OBJECT_ID = re.compile(r"sha256:[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def object_id_for(digest_hex: str) -> str:
    """The object id for content with this sha256 digest: ``sha256:<64 lowercase hex>``."""
    if not isinstance(digest_hex, str) or not _HEX64.fullmatch(digest_hex):
        raise StoreError(f"{digest_hex!r} is not a sha256 digest (64 hex digits)")
    return f"sha256:{digest_hex.lower()}"


def require_id(object_id: str) -> str:
    """``object_id`` itself if it is a Svidok object id; StoreError otherwise."""
    if not isinstance(object_id, str) or not OBJECT_ID.fullmatch(object_id):
        raise StoreError(
            f"{object_id!r} is not a Svidok object id "
            "(expected 'sha256:' and 64 lowercase hex digits)"
        )
    return object_id


def absolute(path: Path) -> Path:
    """Absolute and normalised (``..`` removed), without resolving symbolic links."""
    return Path(os.path.normpath(Path(path).expanduser().absolute()))


def object_path(root: Path, layout: HashedNTupleLayout, object_id: str) -> Path:
    """Where the layout puts the object ``object_id`` (whether it exists or not)."""
    parts = layout.path_parts(require_id(object_id))
    for name in parts:
        if name in ("", ".", "..") or "/" in name:
            raise PathEscapeError(f"the layout gave an unsafe path for {object_id}")
    path = root.joinpath(*parts)
    if path.parent == path or root not in path.parents:
        raise PathEscapeError(f"the path for {object_id} would leave the storage root")
    return path


def open_root(root: Path) -> int:
    """A descriptor of the storage root folder; StoreError if it cannot be opened."""
    try:
        return os.open(root, cf.DIR_FLAGS)
    except OSError as exc:
        raise StoreError(f"cannot open the storage root {root}: {exc.strerror}") from exc


def open_object(root: Path, layout: HashedNTupleLayout, object_id: str) -> int:
    """Open the object's folder (no links followed); ObjectNotFoundError if absent."""
    parts = layout.path_parts(require_id(object_id))
    with cf.closing_fd(open_root(root)) as root_fd:
        try:
            fd = cf.open_dir_path(root_fd, parts)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object {object_id} in the store") from None
    try:
        os.stat(OBJECT_DECLARATION, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        os.close(fd)
        raise ObjectNotFoundError(
            f"no object {object_id} in the store (its folder holds no {OBJECT_DECLARATION})"
        ) from None
    return fd


def has_object(root: Path, layout: HashedNTupleLayout, object_id: str) -> bool:
    """Whether an object folder with its declaration exists for ``object_id``."""
    try:
        fd = open_object(root, layout, object_id)
    except ObjectNotFoundError:
        return False
    os.close(fd)
    return True


def write_root_files(root: Path, layout: HashedNTupleLayout) -> None:
    """Write a new storage root's layout files and declaration into the folder ``root``."""
    ext_dir = root.joinpath(*LAYOUT_CONFIG[:-1])
    ext_dir.mkdir(parents=True)
    atomic_write(ext_dir / LAYOUT_CONFIG[-1], layout.config_bytes())
    fsync_dir(ext_dir.parent)
    atomic_write(root / LAYOUT_FILE, layout_file_bytes())
    # The declaration goes last: a storage root without it is not one.
    atomic_write(root / ROOT_DECLARATION, f"ocfl_{SPEC_VERSION}\n".encode())


def check_root(root_fd: int, root: Path) -> tuple[list[StoreProblem], HashedNTupleLayout | None]:
    """Problems with the root's declaration and layout files, and its layout if usable."""
    problems: list[StoreProblem] = []

    def bad(kind: ProblemKind, message: str, code: str | None, at: Path = root) -> None:
        problems.append(StoreProblem(kind, message, path=at, spec_code=code))

    names = sorted(os.listdir(root_fd))
    declarations = [n for n in names if n.startswith("0=")]
    if not declarations:
        bad(
            ProblemKind.ROOT_DECLARATION,
            f"{root} is not an OCFL storage root: there is no {ROOT_DECLARATION} file",
            "E069",
        )
    elif declarations != [ROOT_DECLARATION]:
        bad(
            ProblemKind.ROOT_DECLARATION,
            f"{root} declares {', '.join(declarations)}; Svidok needs exactly one "
            f"{ROOT_DECLARATION} file",
            "E076",
        )
    else:
        text: bytes | None
        try:
            text = cf.read_small_at(root_fd, ROOT_DECLARATION, SMALL_LIMIT)
        except (OSError, StoreError) as exc:
            text = None
            bad(ProblemKind.ROOT_DECLARATION, f"cannot read {ROOT_DECLARATION}: {exc}", "E080")
        if text is not None and text != f"ocfl_{SPEC_VERSION}\n".encode():
            bad(
                ProblemKind.ROOT_DECLARATION,
                f"{ROOT_DECLARATION} in {root} does not contain 'ocfl_{SPEC_VERSION}' "
                "and a newline",
                "E080",
            )
    layout: HashedNTupleLayout | None = None
    try:
        doc = load_json(cf.read_small_at(root_fd, LAYOUT_FILE, SMALL_LIMIT))
    except FileNotFoundError:
        bad(ProblemKind.ROOT_LAYOUT, f"{root} has no {LAYOUT_FILE}; Svidok needs one", None)
        return problems, None
    except (OSError, StoreError, ValueError) as exc:
        bad(ProblemKind.ROOT_LAYOUT, f"{LAYOUT_FILE} in {root} cannot be read: {exc}", "E070")
        return problems, None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("extension"), str)
        or not isinstance(doc.get("description"), str)
    ):
        bad(
            ProblemKind.ROOT_LAYOUT,
            f"{LAYOUT_FILE} in {root} needs the string keys 'extension' and 'description'",
            "E070",
        )
        return problems, None
    if doc["extension"] != EXTENSION_NAME:
        bad(
            ProblemKind.ROOT_LAYOUT,
            f"{root} uses the storage layout {doc['extension']!r}; Svidok only reads "
            f"{EXTENSION_NAME!r}",
            "E071",
        )
        return problems, None
    try:
        config_fd = cf.open_dir_path(root_fd, LAYOUT_CONFIG[:-1])
    except FileNotFoundError:
        layout = HashedNTupleLayout()  # the extension's defaults
    except (OSError, StoreError) as exc:
        bad(ProblemKind.ROOT_LAYOUT, f"the layout extension folder is unusable: {exc}", None)
        return problems, None
    else:
        try:
            raw = cf.read_small_at(config_fd, LAYOUT_CONFIG[-1], SMALL_LIMIT)
            layout = HashedNTupleLayout.from_config(load_json(raw))
        except FileNotFoundError:
            layout = HashedNTupleLayout()
        except (OSError, StoreError, ValueError) as exc:
            bad(
                ProblemKind.ROOT_LAYOUT,
                f"{'/'.join(LAYOUT_CONFIG)} in {root} is unusable: {exc}",
                None,
            )
            return problems, None
        finally:
            os.close(config_fd)
    return problems, layout
