"""OCFL 1.1 inventories: strict parsing, structural checks, and writing.

Parsing never trusts the document: every key, type, digest, version name and path is
checked against the OCFL 1.1 specification (section 3.5) and every problem found is
returned as a :class:`~svidok.store.problems.StoreProblem`. Paths taken from an
inventory are only ever *compared* as strings here; opening them is done elsewhere,
confined to the object root.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from svidok.store.problems import ProblemKind, Severity, StoreProblem

INVENTORY_TYPES: dict[str, str] = {
    "1.0": "https://ocfl.io/1.0/spec/#inventory",
    "1.1": "https://ocfl.io/1.1/spec/#inventory",
}
SPEC_VERSION = "1.1"
CONTENT_ALGORITHMS = ("sha256", "sha512")  # allowed for content addressing (E025)
# Fixity algorithms of OCFL 1.1 section 3.4: name -> (hashlib name, hex length)
FIXITY_ALGORITHMS: dict[str, tuple[str, int]] = {
    "md5": ("md5", 32),
    "sha1": ("sha1", 40),
    "sha256": ("sha256", 64),
    "sha512": ("sha512", 128),
    "blake2b-512": ("blake2b", 128),
}
DEFAULT_CONTENT_DIRECTORY = "content"
MAX_INVENTORY_BYTES = 256 * 1024 * 1024

_TOP_KEYS = frozenset(
    {"id", "type", "digestAlgorithm", "head", "contentDirectory", "manifest", "versions", "fixity"}
)
_VERSION_KEYS = frozenset({"created", "state", "message", "user"})
_USER_KEYS = frozenset({"name", "address"})
_VERSION_NAME = re.compile(r"v(\d+)")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_HEX = re.compile(r"[0-9a-fA-F]+")
_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def hashlib_name(algorithm: str) -> str:
    """hashlib's name for an OCFL digest algorithm name."""
    return FIXITY_ALGORITHMS[algorithm][0]


def new_hasher(algorithm: str) -> Any:
    """A fresh hashlib object for an OCFL digest algorithm name."""
    return hashlib.new(hashlib_name(algorithm))


# --------------------------------------------------------------------------- paths


def path_elements_problem(path: object) -> str | None:
    """Why ``path`` is not a safe OCFL logical or content path, or None if it is.

    OCFL 1.1 (E051-E053, E098-E100): ``/``-separated elements, none empty, ``.`` or
    ``..``; no leading or trailing ``/``. Svidok also refuses NUL and other control
    characters, and text that cannot be written as UTF-8.
    """
    if not isinstance(path, str):
        return "is not a string"
    if path == "":
        return "is empty"
    if path.startswith("/") or path.endswith("/"):
        return "begins or ends with '/'"
    for element in path.split("/"):
        if element in ("", ".", ".."):
            return f"has an element {element!r} (empty, '.' or '..' are not allowed)"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return "contains a control character"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "cannot be written as UTF-8"
    return None


def _conflicts(paths: Iterable[str]) -> list[str]:
    """Paths that are also used as a folder by another path (E095, E101)."""
    all_paths = set(paths)
    folders: set[str] = set()
    for p in all_paths:
        parts = p.split("/")
        for i in range(1, len(parts)):
            folders.add("/".join(parts[:i]))
    return sorted(all_paths & folders)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class VersionRecord:
    """One entry of the inventory's ``versions`` block."""

    created: str
    state: dict[str, list[str]]  # digest (as written) -> logical paths
    message: str | None = None
    user_name: str | None = None
    user_address: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"created": self.created, "state": self.state}
        if self.message is not None:
            doc["message"] = self.message
        if self.user_name is not None:
            user: dict[str, str] = {"name": self.user_name}
            if self.user_address is not None:
                user["address"] = self.user_address
            doc["user"] = user
        return doc


@dataclass(frozen=True)
class Inventory:
    """A parsed OCFL inventory. Digests are compared in lowercase."""

    id: str
    type: str
    digest_algorithm: str
    head: str
    manifest: dict[str, list[str]]  # digest (as written) -> content paths
    versions: dict[str, VersionRecord]
    content_directory: str | None = None  # None: key absent (the name is "content")
    fixity: dict[str, dict[str, list[str]]] | None = None
    _content_index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index = {path: digest.lower() for digest, paths in self.manifest.items() for path in paths}
        object.__setattr__(self, "_content_index", index)

    @property
    def content_dir_name(self) -> str:
        return self.content_directory or DEFAULT_CONTENT_DIRECTORY

    @property
    def spec_version(self) -> str | None:
        for version, type_uri in INVENTORY_TYPES.items():
            if type_uri == self.type:
                return version
        return None

    def version_names(self) -> list[str]:
        """Version names from first to last."""
        return sorted(self.versions, key=lambda v: int(v[1:]))

    def content_digest(self, content_path: str) -> str | None:
        """Lowercase digest the manifest gives for ``content_path``."""
        return self._content_index.get(content_path)

    def content_paths(self) -> dict[str, str]:
        """Every manifest content path -> lowercase digest."""
        return dict(self._content_index)

    def logical_state(self, version: str) -> dict[str, str]:
        """Logical path -> lowercase digest for ``version``."""
        record = self.versions[version]
        return {path: digest.lower() for digest, paths in record.state.items() for path in paths}

    def content_path_for(self, digest: str) -> str | None:
        """The first manifest content path holding ``digest`` (sorted, for determinism)."""
        wanted = digest.lower()
        for key, paths in self.manifest.items():
            if key.lower() == wanted and paths:
                return sorted(paths)[0]
        return None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "digestAlgorithm": self.digest_algorithm,
            "head": self.head,
            "id": self.id,
            "manifest": self.manifest,
            "type": self.type,
            "versions": {name: self.versions[name].to_json() for name in self.version_names()},
        }
        if self.content_directory is not None:
            doc["contentDirectory"] = self.content_directory
        if self.fixity is not None:
            doc["fixity"] = self.fixity
        return doc

    def to_bytes(self) -> bytes:
        """Serialised inventory: UTF-8 JSON, sorted keys, two-space indent, final newline.

        The bytes are those of ``json.dumps(doc, indent=2, sort_keys=True,
        ensure_ascii=False)``; orjson writes them (an inventory holds only strings, lists
        and objects, whose orjson form is the same), the standard library when it refuses
        a value (e.g. a lone surrogate, which then fails as it always did).
        """
        doc = self.to_json()
        try:
            return orjson.dumps(doc, option=_ORJSON_OPTIONS) + b"\n"
        except orjson.JSONEncodeError:
            text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)
            return (text + "\n").encode("utf-8")

    def with_new_version(
        self,
        *,
        added: Mapping[str, Sequence[str]],
        state: Mapping[str, Sequence[str]],
        created: datetime,
        message: str | None,
        user_name: str | None,
        user_address: str | None,
    ) -> Inventory:
        """The inventory after adding the next version (forward delta).

        ``added`` maps each digest new to the object to the content paths (under the
        new version's folder) where its file is stored; ``state`` is the whole logical
        state of the new version, digest -> logical paths.
        """
        numbers = [int(v[1:]) for v in self.versions]
        width = len(self.head) - 1 if self.head.startswith("v0") else 0
        number = max(numbers) + 1
        name = f"v{number:0{width}d}" if width else f"v{number}"
        if width and len(name) != len(self.head):
            raise ValueError("zero-padded version numbers are used up")
        manifest = {k: list(v) for k, v in self.manifest.items()}
        known = {k.lower() for k in manifest}
        for digest, paths in added.items():
            if digest.lower() in known:
                raise ValueError(f"digest {digest} is already in the manifest")
            manifest[digest] = list(paths)
        versions = dict(self.versions)
        versions[name] = VersionRecord(
            created=format_created(created),
            state={k: list(v) for k, v in state.items()},
            message=message,
            user_name=user_name,
            user_address=user_address,
        )
        return Inventory(
            id=self.id,
            type=INVENTORY_TYPES[SPEC_VERSION],
            digest_algorithm=self.digest_algorithm,
            head=name,
            manifest=manifest,
            versions=versions,
            content_directory=self.content_directory,
            fixity=self.fixity,
        )


def format_created(created: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; fractions of a second only when there are some."""
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError("the creation time must carry a time zone")
    utc = created.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def first_version(
    *,
    object_id: str,
    digest_algorithm: str,
    digest: str,
    logical_path: str,
    created: datetime,
    message: str | None,
    user_name: str | None,
    user_address: str | None,
) -> Inventory:
    """Inventory of a new object whose v1 holds one file at ``logical_path``."""
    content_path = f"v1/{DEFAULT_CONTENT_DIRECTORY}/{logical_path}"
    return Inventory(
        id=object_id,
        type=INVENTORY_TYPES[SPEC_VERSION],
        digest_algorithm=digest_algorithm,
        head="v1",
        manifest={digest: [content_path]},
        versions={
            "v1": VersionRecord(
                created=format_created(created),
                state={digest: [logical_path]},
                message=message,
                user_name=user_name,
                user_address=user_address,
            )
        },
    )


def sidecar_bytes(inventory_bytes: bytes, digest_algorithm: str) -> bytes:
    digest = hashlib.new(hashlib_name(digest_algorithm), inventory_bytes).hexdigest()
    return f"{digest}  inventory.json\n".encode("ascii")


def parse_sidecar(data: bytes) -> str | None:
    """The digest a sidecar states (lowercase), or None if it does not follow E061."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = re.fullmatch(r"([0-9a-fA-F]+)[ \t]+inventory\.json\n?", text)
    return match.group(1).lower() if match else None


# --------------------------------------------------------------------------- parsing


class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[StoreProblem] = []

    def error(self, code: str | None, message: str, kind: ProblemKind | None = None) -> None:
        self._add(code, message, kind, "error")

    def warning(self, code: str | None, message: str, kind: ProblemKind | None = None) -> None:
        self._add(code, message, kind, "warning")

    def _add(
        self, code: str | None, message: str, kind: ProblemKind | None, severity: Severity
    ) -> None:
        self.problems.append(
            StoreProblem(
                kind=kind or ProblemKind.INVENTORY_INVALID,
                message=f"{self.where}: {message}",
                spec_code=code,
                severity=severity,
            )
        )


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one JSON object")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def load_json(raw: bytes) -> Any:
    """Strict JSON (RFC 8259) from UTF-8 bytes: no byte-order mark, duplicate keys or NaN."""
    text = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if text.startswith("\ufeff"):
        raise ValueError("starts with a byte-order mark")
    return json.loads(text, object_pairs_hook=_strict_object, parse_constant=_no_constants)


def _string_list_map(
    check: _Checker, value: object, what: str, code: str
) -> dict[str, list[str]] | None:
    if not isinstance(value, dict):
        check.error(code, f"{what} is not a JSON object")
        return None
    result: dict[str, list[str]] = {}
    for key, paths in value.items():
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            check.error(code, f"{what}: the value for {key!r} is not a list of strings")
            return None
        result[key] = list(paths)
    return result


def _check_digests(
    check: _Checker, keys: Iterable[str], algorithm: str, what: str, dup_code: str
) -> None:
    hex_len = FIXITY_ALGORITHMS[algorithm][1] if algorithm in FIXITY_ALGORITHMS else None
    seen: dict[str, str] = {}
    for key in keys:
        if hex_len is not None and (len(key) != hex_len or not _HEX.fullmatch(key)):
            check.error(dup_code, f"{what}: {key!r} is not a {algorithm} digest")
        low = key.lower()
        if low in seen:
            check.error(dup_code, f"{what}: digest {key} appears twice (differing only in case)")
        seen[low] = key


def parse_inventory(
    raw: bytes, *, where: str = "inventory.json", expected_spec: str | None = None
) -> tuple[Inventory | None, list[StoreProblem]]:
    """Parse and check an inventory.

    Returns the inventory when its shape is usable (even if it breaks other rules,
    which are then in the list of problems) and None when it is not.
    ``expected_spec`` is the OCFL version the object declares (``"1.1"``).
    """
    check = _Checker(where)
    if len(raw) > MAX_INVENTORY_BYTES:
        check.error("E033", "is too large to read")
        return None, check.problems
    try:
        doc = load_json(raw)
    except ValueError as exc:
        check.error("E033", f"is not valid JSON ({exc})")
        return None, check.problems
    if not isinstance(doc, dict):
        check.error("E033", "is not a JSON object")
        return None, check.problems

    for key in sorted(set(doc) - _TOP_KEYS):
        check.error("E102", f"has a key OCFL does not define: {key!r}")
    usable = True
    for key, code in (
        ("id", "E036"),
        ("type", "E036"),
        ("digestAlgorithm", "E036"),
        ("head", "E036"),
        ("manifest", "E041"),
        ("versions", "E041"),
    ):
        if key not in doc:
            check.error(code, f"has no {key!r}")
            usable = False

    object_id = doc.get("id")
    if "id" in doc and (not isinstance(object_id, str) or object_id == ""):
        check.error("E037", "'id' is not a non-empty string")
        usable = False

    type_uri = doc.get("type")
    if "type" in doc:
        if type_uri not in INVENTORY_TYPES.values():
            check.error("E038", f"'type' {type_uri!r} is not an OCFL inventory type")
        elif expected_spec is not None and type_uri != INVENTORY_TYPES.get(expected_spec):
            check.error(
                "E038", f"'type' {type_uri!r} does not match the declared OCFL {expected_spec}"
            )

    algorithm = doc.get("digestAlgorithm")
    if "digestAlgorithm" in doc and algorithm not in CONTENT_ALGORITHMS:
        check.error("E025", f"'digestAlgorithm' {algorithm!r} is not sha512 or sha256")
        usable = False

    content_directory = doc.get("contentDirectory")
    if "contentDirectory" in doc:
        if not isinstance(content_directory, str) or content_directory in ("", ".", ".."):
            check.error("E018", "'contentDirectory' is not a usable folder name")
            usable = False
        elif "/" in content_directory:
            check.error("E017", "'contentDirectory' contains '/'")
            usable = False
        elif path_elements_problem(content_directory) is not None:
            check.error("E108", "'contentDirectory' is not a usable folder name")
            usable = False

    head = doc.get("head")
    if "head" in doc and not isinstance(head, str):
        check.error("E040", "'head' is not a string")
        usable = False

    manifest = _string_list_map(check, doc.get("manifest", {}), "manifest", "E106")
    versions_doc = doc.get("versions", {})
    if not isinstance(versions_doc, dict):
        check.error("E045", "'versions' is not a JSON object")
        usable = False
        versions_doc = {}

    fixity: dict[str, dict[str, list[str]]] | None = None
    if "fixity" in doc:
        fixity_doc = doc["fixity"]
        if not isinstance(fixity_doc, dict):
            check.error("E111", "'fixity' is not a JSON object")
        else:
            fixity = {}
            for alg, block in fixity_doc.items():
                parsed = _string_list_map(check, block, f"fixity block {alg!r}", "E057")
                if parsed is not None:
                    fixity[alg] = parsed

    if manifest is None or not usable:
        return None, check.problems
    assert isinstance(object_id, str) and isinstance(type_uri, str)
    assert isinstance(algorithm, str) and isinstance(head, str)

    # -- versions: names and sequence (E008-E013, E046, E040)
    numbers: dict[str, int] = {}
    for name in versions_doc:
        match = _VERSION_NAME.fullmatch(name) if isinstance(name, str) else None
        if match is None or int(match.group(1)) == 0:
            check.error("E046", f"version name {name!r} is not v1, v2, ... ")
            usable = False
        else:
            numbers[name] = int(match.group(1))
    if not versions_doc:
        check.error("E008", "has no versions")
    if numbers and len(numbers) == len(versions_doc):
        ordered = sorted(numbers.values())
        if ordered != list(range(1, len(ordered) + 1)):
            check.error("E010", f"version numbers are not 1..{len(ordered)} without gaps")
        padded = {len(n) for n in numbers if n.startswith("v0")}
        if padded and (len(padded) != 1 or any(len(n) != next(iter(padded)) for n in numbers)):
            check.error("E012", "version names are not zero-padded to one width")
        if head != max(numbers, key=lambda n: numbers[n]):
            check.error("E040", f"'head' {head!r} is not the last version")
    elif head not in versions_doc:
        check.error("E040", f"'head' {head!r} is not one of the versions")

    # -- version blocks
    versions: dict[str, VersionRecord] = {}
    for name, block in versions_doc.items():
        where_v = f"version {name}"
        if not isinstance(block, dict):
            check.error("E047", f"{where_v} is not a JSON object")
            usable = False
            continue
        for key in sorted(set(block) - _VERSION_KEYS):
            check.error("E102", f"{where_v} has a key OCFL does not define: {key!r}")
        created = block.get("created")
        if not isinstance(created, str):
            check.error("E048", f"{where_v} has no 'created' string")
            created = ""
        elif not _created_ok(created):
            check.error("E049", f"{where_v}: 'created' {created!r} is not an RFC 3339 date-time")
        if "state" not in block:
            check.error("E048", f"{where_v} has no 'state'")
        state = _string_list_map(check, block.get("state", {}), f"{where_v} state", "E050")
        if state is None:
            usable = False
            continue
        message = block.get("message")
        if "message" in block and not isinstance(message, str):
            check.error("E094", f"{where_v}: 'message' is not a string")
            message = None
        # W007/W008 (message, user and address SHOULD be present) are not reported:
        # Svidok records versions without an address on purpose.
        user_name: str | None = None
        user_address: str | None = None
        if "user" in block:
            user = block["user"]
            if not isinstance(user, dict):
                check.error("E054", f"{where_v}: 'user' is not a JSON object")
            else:
                for key in sorted(set(user) - _USER_KEYS):
                    check.error("E102", f"{where_v}: 'user' has an unknown key {key!r}")
                if not isinstance(user.get("name"), str):
                    check.error("E054", f"{where_v}: 'user' has no 'name' string")
                else:
                    user_name = user["name"]
                if "address" in user:
                    if isinstance(user["address"], str):
                        user_address = user["address"]
                    else:
                        check.error("E054", f"{where_v}: user 'address' is not a string")
        versions[name] = VersionRecord(
            created=created,
            state=state,
            message=message,
            user_name=user_name,
            user_address=user_address,
        )
    if not usable or head not in versions:
        return None, check.problems

    # -- manifest (E092, E096, E099-E101, E107) and states (E050-E053, E095)
    _check_digests(check, manifest, algorithm, "manifest", "E096")
    content_dir = content_directory if isinstance(content_directory, str) else "content"
    all_content: list[str] = []
    for digest, paths in manifest.items():
        if not paths:
            check.error("E092", f"manifest: digest {digest} lists no content path")
        for path in paths:
            problem = path_elements_problem(path)
            if problem is not None:
                check.error("E099", f"manifest: content path {path!r} {problem}")
                continue
            parts = path.split("/")
            if len(parts) < 3 or parts[0] not in versions or parts[1] != content_dir:
                check.error(
                    "E042",
                    f"manifest: content path {path!r} is not inside a version's "
                    f"'{content_dir}' folder",
                )
            all_content.append(path)
    if len(all_content) != len(set(all_content)):
        check.error("E101", "manifest: a content path appears more than once")
    for path in _conflicts(all_content):
        check.error("E101", f"manifest: content path {path!r} is also used as a folder")

    used: set[str] = set()
    for name, record in versions.items():
        where_s = f"version {name} state"
        _check_digests(check, record.state, algorithm, where_s, "E050")
        logical: list[str] = []
        for digest, paths in record.state.items():
            if digest not in manifest:  # exactly, case included
                check.error("E050", f"{where_s}: digest {digest} is not in the manifest")
            used.add(digest.lower())
            for path in paths:
                problem = path_elements_problem(path)
                if problem is not None:
                    check.error("E052", f"{where_s}: logical path {path!r} {problem}")
                logical.append(path)
        if len(logical) != len(set(logical)):
            check.error("E095", f"{where_s}: a logical path appears more than once")
        for path in _conflicts(logical):
            check.error("E095", f"{where_s}: logical path {path!r} is also used as a folder")
    for digest in manifest:
        if digest.lower() not in used:
            check.error("E107", f"manifest: digest {digest} is in no version's state")

    if fixity is not None:
        content_set = set(all_content)
        for alg, block in fixity.items():
            if alg not in FIXITY_ALGORITHMS:
                check.warning("E056", f"fixity: digest algorithm {alg!r} is not known; ignored")
                continue
            _check_digests(check, block, alg, f"fixity block {alg!r}", "E097")
            for paths in block.values():
                for path in paths:
                    if path not in content_set:
                        check.error("E057", f"fixity: {path!r} is not a manifest content path")

    inventory = Inventory(
        id=object_id,
        type=type_uri,
        digest_algorithm=algorithm,
        head=head,
        manifest=manifest,
        versions=versions,
        content_directory=content_directory if isinstance(content_directory, str) else None,
        fixity=fixity,
    )
    return inventory, check.problems


def _created_ok(text: str) -> bool:
    if not _RFC3339.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def compare_prior(current: Inventory, prior: Inventory, where: str) -> list[StoreProblem]:
    """Check a version folder's inventory against the object's current one (E066, E110)."""
    check = _Checker(where)
    if prior.id != current.id:
        check.error("E110", f"'id' {prior.id!r} differs from the object's {current.id!r}")
    for name, record in prior.versions.items():
        if name not in current.versions:
            check.error("E066", f"version {name} is not in the object's inventory")
            continue
        # Digests may differ between algorithms; then compare through the content paths.
        if prior.logical_state(name) != current.logical_state(name) and (
            prior.digest_algorithm == current.digest_algorithm
            or not _same_by_content(current, prior, name)
        ):
            check.error("E066", f"version {name} has a different logical state")
        cur = current.versions[name]
        if (record.created, record.message, record.user_name, record.user_address) != (
            cur.created,
            cur.message,
            cur.user_name,
            cur.user_address,
        ):
            check.warning("W011", f"version {name} has different metadata")
    return check.problems


def _same_by_content(current: Inventory, prior: Inventory, version: str) -> bool:
    """Whether two states agree once each digest is replaced by its content paths."""

    def by_content(inv: Inventory) -> dict[str, frozenset[str]]:
        paths_of: dict[str, frozenset[str]] = {}
        for digest, paths in inv.manifest.items():
            paths_of[digest.lower()] = frozenset(paths)
        return {lp: paths_of.get(d, frozenset()) for lp, d in inv.logical_state(version).items()}

    return by_content(current) == by_content(prior)
