"""What validation and scans of the OCFL store report: :class:`StoreProblem`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


class ProblemKind(enum.StrEnum):
    """Stable codes for what is wrong; ``svidok verify`` and the catalog may store them."""

    # storage root
    ROOT_DECLARATION = "root-declaration"  # 0=ocfl_1.1 missing or wrong
    ROOT_LAYOUT = "root-layout"  # ocfl_layout.json or the layout's config.json missing or wrong
    STRAY_FILE = "stray-file"  # a file that belongs to no object
    STRAY_DIR = "stray-dir"  # a folder that is neither a layout folder nor an object
    EMPTY_DIR = "empty-dir"  # an empty folder (OCFL forbids them)
    SYMLINK = "symlink"  # a symbolic link anywhere under the storage root
    SPECIAL_FILE = "special-file"  # a device, pipe or socket under the storage root
    UNREADABLE = "unreadable"  # the operating system refused to read something
    # object
    OBJECT_DECLARATION = "object-declaration"  # 0=ocfl_object_1.1 missing or wrong
    OBJECT_EXTRA_ENTRY = "object-extra-entry"  # an unexpected file or folder in the object root
    INVENTORY_MISSING = "inventory-missing"
    INVENTORY_INVALID = "inventory-invalid"  # not JSON, or not the structure OCFL requires
    SIDECAR_MISSING = "sidecar-missing"
    SIDECAR_INVALID = "sidecar-invalid"  # sidecar file cannot be understood
    SIDECAR_MISMATCH = "sidecar-mismatch"  # inventory digest differs from the sidecar
    ID_INVALID = "id-invalid"  # not of the form sha256:<64 lowercase hex>
    WRONG_PATH = "wrong-path"  # the object is not where the layout puts its id
    ID_CONTENT_MISMATCH = "id-content-mismatch"  # the id's digest is not v1's content
    VERSION_DIRS = "version-dirs"  # version folders differ from the inventory's versions
    VERSION_EXTRA_ENTRY = "version-extra-entry"  # unexpected file or folder in a version folder
    VERSION_INVENTORY = "version-inventory"  # a version folder's inventory disagrees
    CONTENT_MISSING = "content-missing"  # a file listed in the manifest is absent
    CONTENT_EXTRA = "content-extra"  # a file in a content folder is not in the manifest
    CONTENT_DIGEST = "content-digest-mismatch"  # a content file changed or was cut short
    FIXITY_MISMATCH = "fixity-mismatch"  # a digest in the inventory's fixity block differs


@dataclass(frozen=True)
class StoreProblem:
    """One thing found wrong in the store, in plain words.

    ``path`` is absolute. ``object_id`` is known when the object's inventory could be
    read. ``spec_code`` names the OCFL 1.1 rule broken (for example ``"E023"``), when
    there is one.
    """

    kind: ProblemKind
    message: str
    path: Path | None = None
    object_id: str | None = None
    spec_code: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path is not None else ""
        code = f" [{self.spec_code}]" if self.spec_code else ""
        return f"{self.severity}: {where}{self.message}{code}"
