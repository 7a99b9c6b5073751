"""The installed ``ocfl-validate.py`` judges a Svidok store valid, and sees damage.

Run as a separate program, as a person checking a store would. ocfl-py 2.1's script
only prints storage-root problems when given a root (object problems are counted but
not shown), so each object is also given to it on its own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svidok.store import OcflStore
from svidok.store.inventory import path_elements_problem

from .helpers import make_writable, ocfl_py_object, ocfl_py_root, ocfl_validate_script, put
from .test_store_basic import ODD_NAMES


def test_script_says_valid_then_invalid(store: OcflStore, staging: Path) -> None:
    paths = [
        put(store, staging, data, name)[1]
        for data, name in [
            (b"", "original"),
            (os.urandom(70000), "фото.jpg"),
            (b"x" * 10, ODD_NAMES[4]),
            (b"y" * 10, ODD_NAMES[12]),
        ]
    ]
    whole = ocfl_validate_script(store.root)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert "[E" not in whole.stdout + whole.stderr
    each = ocfl_validate_script(*paths)
    assert each.returncode == 0, each.stdout + each.stderr
    assert each.stdout.count("is VALID") == len(paths)

    victim = paths[1] / "v1" / "content" / "фото.jpg"
    make_writable(victim)
    with open(victim, "r+b") as fh:
        fh.seek(1234)
        byte = fh.read(1)
        fh.seek(1234)
        fh.write(bytes([byte[0] ^ 0xFF]))
    each = ocfl_validate_script(*paths)
    assert each.returncode != 0
    assert "[E092" in each.stdout and each.stdout.count("is VALID") == len(paths) - 1
    assert [p.kind.value for p in store.validate_object(paths[1])] == ["content-digest-mismatch"]


NAME_SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"),
    min_size=1,
    max_size=40,
).filter(lambda s: s not in (".", "..") and len(s.encode()) <= 255)


@given(
    name=st.lists(NAME_SEGMENT, min_size=1, max_size=3).map("/".join),
    data=st.binary(max_size=2000),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_safe_name_and_content_round_trip(name: str, data: bytes) -> None:
    assert path_elements_problem(name) is None
    with tempfile.TemporaryDirectory() as tmp:
        store = OcflStore.init(Path(tmp) / "store")
        staging = Path(tmp) / "staging"
        staging.mkdir()
        object_id, path = put(store, staging, data, name)
        with store.open_content(object_id, name) as fh:
            assert fh.read() == data
        assert store.validate_object(path) == []
        valid, messages = ocfl_py_object(path)
        assert valid, messages
        ok, num, good, errs = ocfl_py_root(store.root)
        assert ok and num == good == 1, errs
