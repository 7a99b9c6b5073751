"""Validate an OCFL storage root with ocfl-py (the reference for P3), strictly.

    .venv/bin/python bench/ocfl_validate_root.py STORAGE_ROOT [EXPECTED_OBJECTS]

Does what ``ocfl-validate.py -q STORAGE_ROOT`` does (``ocfl.StorageRoot(...).validate``
with digests checked), with two changes that make it usable as a reference:

* the storage layout extension 0004, which ocfl-py 2.1 does not know, is registered with
  the independent handler of ``tests/store/ocfl_py_validate.py`` (imported from there);
* ocfl-py's root validation returns True even when objects are invalid (only traversal
  errors count), so this exits 1 unless every object was found valid, and 2 if fewer
  objects than expected were found. It prints ``<found> objects, <valid> valid``.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLER = ROOT / "tests" / "store" / "ocfl_py_validate.py"


def register_0004() -> None:
    spec = importlib.util.spec_from_file_location("ocfl_py_validate_0004", HANDLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.register()


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    register_0004()
    import ocfl

    store = ocfl.StorageRoot(root=argv[0], lax_digests=False)
    ok = store.validate(log_warnings=False, log_errors=True, check_digests=True)
    found, valid = store.num_objects, store.good_objects
    print(f"{found} objects, {valid} valid")
    if len(argv) == 2 and found < int(argv[1]):
        return 2
    return 0 if ok and found == valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
