"""Validation of one object: its declaration, inventories, sidecars, versions and content.

Used by :meth:`OcflStore.validate_object` for one object and by :meth:`OcflStore.scan`
for all of them, with large files hashed on worker threads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from svidok.errors import PathEscapeError, StoreError
from svidok.store import _confined as cf
from svidok.store._content import ContentCheck, HashFile, HashJobs, expected_digests
from svidok.store._read import ObjectInfo, object_info
from svidok.store._root import (
    EXTENSIONS_DIR,
    INVENTORY_LIMIT,
    OBJECT_DECLARATION,
    OBJECT_ID,
    SMALL_LIMIT,
    open_root,
)
from svidok.store.inventory import (
    INVENTORY_TYPES,
    Inventory,
    compare_prior,
    new_hasher,
    parse_inventory,
    parse_sidecar,
)
from svidok.store.layout import HashedNTupleLayout
from svidok.store.problems import ProblemKind, StoreProblem

_OBJECT_DECL = re.compile(r"0=ocfl_object_(\d+\.\d+)")
_VERSION_DIR = re.compile(r"v\d+")
_KNOWN_OBJECT_SPECS = ("1.0", "1.1")


class ObjectCheck(ContentCheck):
    """Validation of one object (see :meth:`OcflStore.validate_object`).

    :meth:`start` checks the structure and hashes small files at once; large files go
    to ``jobs`` (other threads) when given. :meth:`finish` waits for those digests and
    compares everything.
    """

    def __init__(
        self,
        root: Path,
        layout: HashedNTupleLayout,
        parts: tuple[str, ...],
        fixity: bool,
        on_bytes: Callable[[int], None] | None,
        jobs: HashJobs | None,
        hash_file: HashFile,
    ) -> None:
        super().__init__(root.joinpath(*parts), fixity, on_bytes, jobs, hash_file)
        self.root = root
        self.layout = layout
        self.parts = parts
        self.inventory: Inventory | None = None

    def run(self) -> tuple[list[StoreProblem], ObjectInfo | None]:
        self.start()
        return self.finish()

    def start(self) -> None:
        try:
            with cf.closing_fd(open_root(self.root)) as root_fd:
                obj_fd = cf.open_dir_path(root_fd, self.parts)
        except PathEscapeError as exc:
            self.add(
                ProblemKind.SYMLINK, f"the path to this object has a symbolic link: {exc}", "E090"
            )
            return
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot open the object folder: {exc}")
            return
        try:
            self._check(obj_fd)
        except OSError as exc:
            self.add(ProblemKind.UNREADABLE, f"reading failed: {exc}")
            self.inventory = None
        finally:
            os.close(obj_fd)

    def finish(self) -> tuple[list[StoreProblem], ObjectInfo | None]:
        self._collect()
        info = None
        if self.inventory is not None:
            self._compare(self.inventory)
            info = object_info(self.inventory, self.path, self.on_disk)
        problems = [replace(p, object_id=self.object_id) for p in self.problems]
        return problems, info

    # -- helpers

    def _read(self, fd: int, name: str, rel: str, limit: int) -> bytes | None:
        try:
            return cf.read_small_at(fd, name, limit)
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot read: {exc}", at=rel)
            return None

    def _check_sidecar(
        self, fd: int, files: dict[str, Any], raw: bytes, alg: str, rel: str
    ) -> None:
        """``rel`` is the inventory's path relative to the object root."""
        name = f"inventory.json.{alg}"
        side_rel = f"{rel}.{alg}"
        if name not in files:
            self.add(ProblemKind.SIDECAR_MISSING, f"{side_rel} is missing", "E058", at=side_rel)
            return
        data = self._read(fd, name, side_rel, SMALL_LIMIT)
        if data is None:
            return
        stated = parse_sidecar(data)
        if stated is None:
            self.add(
                ProblemKind.SIDECAR_INVALID,
                f"{side_rel} is not of the form '<digest> inventory.json'",
                "E061",
                at=side_rel,
            )
            return
        hasher = new_hasher(alg)
        hasher.update(raw)
        if stated != hasher.hexdigest():
            self.add(
                ProblemKind.SIDECAR_MISMATCH,
                f"{rel} does not match the digest in {side_rel} (changed or damaged)",
                "E060",
                at=rel,
            )

    def _adopt(self, problems: list[StoreProblem], kind: ProblemKind | None = None) -> None:
        for p in problems:
            self.problems.append(
                replace(p, path=self.path, kind=kind or p.kind, object_id=self.object_id)
            )

    # -- the checks

    def _check(self, obj_fd: int) -> None:
        files, dirs = self._list(obj_fd, "")
        spec = self._check_declaration(obj_fd, files)
        if "inventory.json" not in files:
            self.add(ProblemKind.INVENTORY_MISSING, "the object has no inventory.json", "E063")
            return
        raw = self._read(obj_fd, "inventory.json", "inventory.json", INVENTORY_LIMIT)
        if raw is None:
            return
        inventory, inv_problems = parse_inventory(raw, expected_spec=spec)
        if inventory is None:
            self._adopt(inv_problems)
            for alg in ("sha512", "sha256"):
                if f"inventory.json.{alg}" in files:
                    self._check_sidecar(obj_fd, files, raw, alg, "inventory.json")
            return
        self.object_id = inventory.id
        self._adopt(inv_problems)
        alg = inventory.digest_algorithm
        self._check_sidecar(obj_fd, files, raw, alg, "inventory.json")
        self._check_identity(inventory)

        decl = next((n for n in files if n.startswith("0=")), None)
        allowed = {decl, "inventory.json", f"inventory.json.{alg}"}
        for name in sorted(set(files) - allowed):
            self.add(
                ProblemKind.OBJECT_EXTRA_ENTRY, "unexpected file in the object", "E001", at=name
            )
        for name in sorted(dirs - set(inventory.versions)):
            if name == "logs":
                continue
            if name == EXTENSIONS_DIR:
                self._check_object_extensions(obj_fd)
            elif _VERSION_DIR.fullmatch(name):
                self.add(
                    ProblemKind.VERSION_DIRS,
                    f"version folder {name} is not in the inventory",
                    "E046",
                    at=name,
                )
            else:
                self.add(
                    ProblemKind.OBJECT_EXTRA_ENTRY,
                    "unexpected folder in the object",
                    "E001",
                    at=name,
                )
        for name in inventory.version_names():
            if name not in dirs:
                self.add(
                    ProblemKind.VERSION_DIRS,
                    f"version folder {name} named in the inventory is missing",
                    "E010",
                    at=name,
                )

        # Pass 1: version folders and their inventories; pass 2: content, hashed once.
        priors: dict[str, Inventory] = {}
        content_dirs: list[str] = []
        for version in inventory.version_names():
            if version in dirs and self._check_version(obj_fd, inventory, raw, version, priors):
                content_dirs.append(version)
        self._check_spec_order(inventory, priors)
        expectations = expected_digests(inventory, priors)
        wanted: dict[str, set[str]] = {}
        for content_path, items in expectations.items():
            wanted[content_path] = {e.algorithm for e in items}
        for version in content_dirs:
            self._walk_version_content(obj_fd, inventory, version, wanted)
        self.priors = priors
        self.expectations = expectations
        self.inventory = inventory

    def _check_spec_order(self, inventory: Inventory, priors: dict[str, Inventory]) -> None:
        """Each version must follow the same or a later OCFL version than the one before (E103)."""
        order = {v: i for i, v in enumerate(INVENTORY_TYPES)}
        last = -1
        for version in inventory.version_names():
            inv = inventory if version == inventory.head else priors.get(version)
            spec = inv.spec_version if inv is not None else None
            if spec is None:
                continue
            if order[spec] < last:
                self.add(
                    ProblemKind.VERSION_INVENTORY,
                    f"{version} follows an older OCFL version than the version before it",
                    "E103",
                    at=version,
                )
            last = max(last, order[spec])

    def _check_declaration(self, obj_fd: int, files: dict[str, Any]) -> str | None:
        declarations = sorted(n for n in files if n.startswith("0="))
        if len(declarations) != 1:
            self.add(
                ProblemKind.OBJECT_DECLARATION,
                f"expected one {OBJECT_DECLARATION} file, found {len(declarations)}",
                "E003",
            )
            return None
        name = declarations[0]
        match = _OBJECT_DECL.fullmatch(name)
        if match is None or match.group(1) not in _KNOWN_OBJECT_SPECS:
            self.add(
                ProblemKind.OBJECT_DECLARATION,
                f"{name} is not an OCFL object declaration Svidok knows",
                "E006",
                at=name,
            )
            return None
        data = self._read(obj_fd, name, name, SMALL_LIMIT)
        if data is not None and data != f"{name[2:]}\n".encode():
            self.add(
                ProblemKind.OBJECT_DECLARATION,
                f"{name} must contain '{name[2:]}' and a newline",
                "E007",
                at=name,
            )
        return match.group(1)

    def _check_identity(self, inventory: Inventory) -> None:
        object_id = inventory.id
        if not OBJECT_ID.fullmatch(object_id):
            self.add(
                ProblemKind.ID_INVALID,
                f"the id {object_id!r} is not of the form sha256:<64 lowercase hex digits>",
            )
            return
        expected = self.layout.path_parts(object_id)
        if expected != self.parts:
            self.add(
                ProblemKind.WRONG_PATH,
                f"the object is at {'/'.join(self.parts)} but the layout puts {object_id} at "
                f"{'/'.join(expected)}",
                "E083",
            )
        first = inventory.version_names()[0]
        digest = object_id.split(":", 1)[1]
        if inventory.digest_algorithm == "sha256":
            v1_digests = set(inventory.logical_state(first).values())
        else:
            v1_digests = set()
            v1_paths = {
                inventory.content_path_for(d) for d in inventory.logical_state(first).values()
            }
            for value, paths in (inventory.fixity or {}).get("sha256", {}).items():
                if v1_paths & set(paths):
                    v1_digests.add(value.lower())
        if digest not in v1_digests:
            self.add(
                ProblemKind.ID_CONTENT_MISMATCH,
                f"the id names content {digest[:16]}… but {first} holds no file with that sha256",
            )

    def _check_object_extensions(self, obj_fd: int) -> None:
        with cf.closing_fd(cf.open_dir_at(obj_fd, EXTENSIONS_DIR)) as fd:
            files, _ = self._list(fd, EXTENSIONS_DIR)
            for name in files:
                self.add(
                    ProblemKind.OBJECT_EXTRA_ENTRY,
                    "the extensions folder may only hold folders",
                    "E067",
                    at=f"{EXTENSIONS_DIR}/{name}",
                )

    def _check_version(
        self,
        obj_fd: int,
        inventory: Inventory,
        root_raw: bytes,
        version: str,
        priors: dict[str, Inventory],
    ) -> bool:
        """Check a version folder's entries and inventory; True if it has a content folder."""
        try:
            vfd = cf.open_dir_at(obj_fd, version)
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=version)
            return False
        with cf.closing_fd(vfd):
            files, dirs = self._list(vfd, version)
            content = inventory.content_dir_name
            alg = self._check_version_inventory(vfd, files, inventory, root_raw, version, priors)
            expected = {"inventory.json", f"inventory.json.{alg}"} if alg else {"inventory.json"}
            for name in sorted(files):
                if name not in expected:
                    self.add(
                        ProblemKind.VERSION_EXTRA_ENTRY,
                        "unexpected file in a version folder",
                        "E015",
                        at=f"{version}/{name}",
                    )
            for name in sorted(dirs - {content}):
                self.add(
                    ProblemKind.VERSION_EXTRA_ENTRY,
                    "unexpected folder in a version folder",
                    "W002",
                    at=f"{version}/{name}",
                    severity="warning",
                )
            return content in dirs

    def _check_version_inventory(
        self,
        vfd: int,
        files: dict[str, Any],
        inventory: Inventory,
        root_raw: bytes,
        version: str,
        priors: dict[str, Inventory],
    ) -> str | None:
        """Check a version folder's inventory; returns its digest algorithm if known."""
        rel = f"{version}/inventory.json"
        if "inventory.json" not in files:
            self.add(
                ProblemKind.VERSION_INVENTORY,
                f"{rel} is missing",
                "W010",
                at=version,
                severity="warning",
            )
            return None
        raw = self._read(vfd, "inventory.json", rel, INVENTORY_LIMIT)
        if raw is None:
            return None
        if version == inventory.head:
            if raw != root_raw:
                self.add(
                    ProblemKind.VERSION_INVENTORY,
                    f"{rel} differs from the object's inventory.json",
                    "E064",
                    at=rel,
                )
            self._check_sidecar(vfd, files, raw, inventory.digest_algorithm, rel)
            return inventory.digest_algorithm
        prior, problems = parse_inventory(raw, where=rel)
        self._adopt(problems, ProblemKind.VERSION_INVENTORY)
        if prior is None:
            return None
        self._check_sidecar(vfd, files, raw, prior.digest_algorithm, rel)
        priors[version] = prior
        if prior.head != version:
            self.add(
                ProblemKind.VERSION_INVENTORY, f"{rel} has head {prior.head!r}", "E040", at=rel
            )
        if prior.type in INVENTORY_TYPES.values():
            self._adopt(compare_prior(inventory, prior, rel), ProblemKind.VERSION_INVENTORY)
        return prior.digest_algorithm
