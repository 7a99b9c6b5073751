"""Extension 0004 mapping, checked against the examples in the extension's text."""

from __future__ import annotations

import pytest

from svidok.errors import StoreError
from svidok.store.layout import EXTENSION_NAME, HashedNTupleLayout


@pytest.mark.parametrize(
    ("object_id", "expected"),
    [
        (
            "object-01",
            "3c0/ff4/240/3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4",
        ),
        (
            "..hor/rib:le-$id",
            "487/326/d8c/487326d8c2a3c0b885e23da1469b4d6671fd4e76978924b4443e9e3c316cda6d",
        ),
    ],
)
def test_example_1_default_parameters(object_id: str, expected: str) -> None:
    assert HashedNTupleLayout().relative_path(object_id) == expected


@pytest.mark.parametrize(
    ("object_id", "expected"),
    [
        ("object-01", "ff/75/53/44/92/48/5e/ab/b3/9f/86/35/67/28/88/4e"),
        ("..hor/rib:le-$id", "08/31/97/66/fb/6c/29/35/dd/17/5b/94/26/77/17/e0"),
    ],
)
def test_example_2_md5_short_root(object_id: str, expected: str) -> None:
    layout = HashedNTupleLayout.from_config(
        {
            "extensionName": EXTENSION_NAME,
            "digestAlgorithm": "md5",
            "tupleSize": 2,
            "numberOfTuples": 15,
            "shortObjectRoot": True,
        }
    )
    assert layout.relative_path(object_id) == expected


def test_example_3_no_tuples() -> None:
    layout = HashedNTupleLayout(tuple_size=0, number_of_tuples=0)
    assert layout.relative_path("object-01") == (
        "3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4"
    )


def test_config_round_trip_and_defaults() -> None:
    layout = HashedNTupleLayout()
    assert HashedNTupleLayout.from_config(layout.config()) == layout
    assert HashedNTupleLayout.from_config({}) == layout
    assert layout.config() == {
        "extensionName": EXTENSION_NAME,
        "digestAlgorithm": "sha256",
        "tupleSize": 3,
        "numberOfTuples": 3,
        "shortObjectRoot": False,
    }


@pytest.mark.parametrize(
    "config",
    [
        {"extensionName": "0002-flat-direct-storage-layout"},
        {"digestAlgorithm": "crc32"},
        {"tupleSize": 0, "numberOfTuples": 3},
        {"tupleSize": 33},
        {"tupleSize": "3"},
        {"tupleSize": True},
        {"tupleSize": 32, "numberOfTuples": 3},
        {"tupleSize": 32, "numberOfTuples": 2, "shortObjectRoot": True},
        {"shortObjectRoot": "no"},
        ["not", "an", "object"],
    ],
)
def test_bad_configs_are_refused(config: object) -> None:
    with pytest.raises(StoreError):
        HashedNTupleLayout.from_config(config)


def test_shape_checks() -> None:
    layout = HashedNTupleLayout()
    assert layout.tuple_name_ok("0a9")
    assert not layout.tuple_name_ok("0A9")
    assert not layout.tuple_name_ok("0a")
    assert layout.object_dir_name_ok("a" * 64)
    assert not layout.object_dir_name_ok("a" * 63)
