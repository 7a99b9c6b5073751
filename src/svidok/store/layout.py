"""OCFL storage layout extension 0004, "hashed n-tuple storage layout".

The object identifier (UTF-8) is hashed; the lowercase hex digest is cut into
``numberOfTuples`` folders of ``tupleSize`` characters each, and the object root is
the whole digest (or, with ``shortObjectRoot``, the rest of it)::

    sha256("sha256:ab…") = 3c0ff424…  ->  3c0/ff4/240/3c0ff424…

Specification: https://ocfl.github.io/extensions/0004-hashed-n-tuple-storage-layout.html
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from svidok.errors import StoreError

EXTENSION_NAME = "0004-hashed-n-tuple-storage-layout"
DESCRIPTION = (
    "OCFL object identifiers are hashed with sha256; the lowercase hex digest is split into "
    "3 folders of 3 characters each, and the object root folder is named with the whole digest "
    "(extension 0004-hashed-n-tuple-storage-layout: "
    "https://ocfl.github.io/extensions/0004-hashed-n-tuple-storage-layout.html)."
)

# Digest algorithms the OCFL fixity block allows (OCFL 1.1 section 3.4), with the
# hex length of their digests. hashlib names differ for blake2b-512.
_ALGORITHMS: dict[str, tuple[str, int]] = {
    "md5": ("md5", 32),
    "sha1": ("sha1", 40),
    "sha256": ("sha256", 64),
    "sha512": ("sha512", 128),
    "blake2b-512": ("blake2b", 128),
}


def _hexdigest(algorithm: str, data: bytes) -> str:
    name, _ = _ALGORITHMS[algorithm]
    return hashlib.new(name, data).hexdigest()


@dataclass(frozen=True)
class HashedNTupleLayout:
    """Parameters of extension 0004 and the identifier-to-path mapping."""

    digest_algorithm: str = "sha256"
    tuple_size: int = 3
    number_of_tuples: int = 3
    short_object_root: bool = False

    def __post_init__(self) -> None:
        if self.digest_algorithm not in _ALGORITHMS:
            raise StoreError(
                f"storage layout: digest algorithm {self.digest_algorithm!r} is not one OCFL allows"
            )
        for name, value in (
            ("tupleSize", self.tuple_size),
            ("numberOfTuples", self.number_of_tuples),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32:
                raise StoreError(f"storage layout: {name} must be a whole number from 0 to 32")
        if (self.tuple_size == 0) != (self.number_of_tuples == 0):
            raise StoreError(
                "storage layout: tupleSize and numberOfTuples must both be 0 or neither"
            )
        hex_len = _ALGORITHMS[self.digest_algorithm][1]
        used = self.tuple_size * self.number_of_tuples
        if used > hex_len:
            raise StoreError("storage layout: the tuples use more characters than the digest has")
        if self.short_object_root and used == hex_len:
            raise StoreError("storage layout: shortObjectRoot needs digest characters left over")

    @property
    def depth(self) -> int:
        """Number of folders from the storage root down to and including the object root."""
        return self.number_of_tuples + 1

    def path_parts(self, object_id: str) -> tuple[str, ...]:
        """Folder names, from the storage root down, of the object root for ``object_id``."""
        digest = _hexdigest(self.digest_algorithm, object_id.encode("utf-8")).lower()
        size = self.tuple_size
        parts = [digest[i * size : (i + 1) * size] for i in range(self.number_of_tuples)]
        parts.append(digest[size * self.number_of_tuples :] if self.short_object_root else digest)
        return tuple(parts)

    def relative_path(self, object_id: str) -> str:
        """Object root for ``object_id``, relative to the storage root, with ``/`` separators."""
        return "/".join(self.path_parts(object_id))

    def tuple_name_ok(self, name: str) -> bool:
        """Whether ``name`` could be an intermediate (tuple) folder under this layout."""
        return len(name) == self.tuple_size and _is_lower_hex(name)

    def object_dir_name_ok(self, name: str) -> bool:
        """Whether ``name`` could be an object root folder name under this layout."""
        hex_len = _ALGORITHMS[self.digest_algorithm][1]
        want = (
            hex_len - self.tuple_size * self.number_of_tuples if self.short_object_root else hex_len
        )
        return len(name) == want and _is_lower_hex(name)

    def config(self) -> dict[str, Any]:
        """The ``config.json`` document for this layout."""
        return {
            "extensionName": EXTENSION_NAME,
            "digestAlgorithm": self.digest_algorithm,
            "tupleSize": self.tuple_size,
            "numberOfTuples": self.number_of_tuples,
            "shortObjectRoot": self.short_object_root,
        }

    def config_bytes(self) -> bytes:
        return (json.dumps(self.config(), indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_config(cls, config: object) -> HashedNTupleLayout:
        """Parse a ``config.json`` document (already decoded from JSON).

        Parameters that are absent take the extension's defaults.
        """
        if not isinstance(config, dict):
            raise StoreError("storage layout: config.json does not hold a JSON object")
        name = config.get("extensionName", EXTENSION_NAME)
        if name != EXTENSION_NAME:
            raise StoreError(
                f"storage layout: config.json names extension {name!r}, expected {EXTENSION_NAME!r}"
            )
        digest_algorithm = config.get("digestAlgorithm", "sha256")
        tuple_size = config.get("tupleSize", 3)
        number_of_tuples = config.get("numberOfTuples", 3)
        short_object_root = config.get("shortObjectRoot", False)
        if not isinstance(digest_algorithm, str):
            raise StoreError("storage layout: digestAlgorithm must be a string")
        if not isinstance(short_object_root, bool):
            raise StoreError("storage layout: shortObjectRoot must be true or false")
        return cls(
            digest_algorithm=digest_algorithm,
            tuple_size=tuple_size,
            number_of_tuples=number_of_tuples,
            short_object_root=short_object_root,
        )


_LOWER_HEX = re.compile(r"[0-9a-f]*")


def _is_lower_hex(text: str) -> bool:
    return _LOWER_HEX.fullmatch(text) is not None


def layout_file_bytes() -> bytes:
    """The ``ocfl_layout.json`` document naming extension 0004."""
    doc = {"extension": EXTENSION_NAME, "description": DESCRIPTION}
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")
