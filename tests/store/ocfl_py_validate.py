"""Run ocfl-py's ``ocfl-validate.py`` with extension 0004 known to it.

ocfl-py 2.1 ships no handler for the 0004 storage layout, and refuses a storage root
that names a layout it does not know (E071). This registers a handler written
straight from the extension's text (independent of Svidok's code) and then runs the
installed script unchanged::

    python tests/store/ocfl_py_validate.py [ocfl-validate.py options] PATH...
"""

from __future__ import annotations

import hashlib
import runpy
import sys
from pathlib import Path

from ocfl.layout import Layout
from ocfl.layout_registry import add_layout


class HashedNTuple0004(Layout):  # type: ignore[misc]
    """0004-hashed-n-tuple-storage-layout with its default parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.NAME = "0004-hashed-n-tuple-storage-layout"
        self.DESCRIPTION = "Hashed N-tuple Storage Layout"
        self.digest_algorithm = "sha256"
        self.tuple_size = 3
        self.number_of_tuples = 3
        self.short_object_root = False
        self.PARAMS = {
            "digestAlgorithm": self._set("digest_algorithm", "sha256"),
            "tupleSize": self._set("tuple_size", 3),
            "numberOfTuples": self._set("number_of_tuples", 3),
            "shortObjectRoot": self._set("short_object_root", False),
        }

    def _set(self, attr: str, default: object):  # type: ignore[no-untyped-def]
        def setter(value: object) -> None:
            setattr(self, attr, default if value is None else value)

        return setter

    def identifier_to_path(self, identifier: str) -> str:
        digest = hashlib.new(self.digest_algorithm, identifier.encode("utf-8")).hexdigest()
        n, size = self.number_of_tuples, self.tuple_size
        tuples = [digest[i * size : (i + 1) * size] for i in range(n)]
        last = digest[n * size :] if self.short_object_root else digest
        return "/".join([*tuples, last])


def register() -> None:
    add_layout("0004-hashed-n-tuple-storage-layout", HashedNTuple0004)


def main() -> None:
    register()
    script = Path(sys.executable).parent / "ocfl-validate.py"
    sys.argv = [str(script), *sys.argv[1:]]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
