"""The multi-index-hashing index finds exactly what a linear scan finds, whatever the
hashes, however they were added (a sorted part and a tail), for every radius."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.analysis.index import HashIndex, linear_scan
from svidok.analysis.pdq import pack

bits = st.integers(min_value=0, max_value=2**256 - 1)


def _hex(value: int) -> str:
    return format(value, "064x")


@st.composite
def near(draw: st.DrawFn, base: int) -> int:
    """``base`` with up to 40 of its bits flipped (around the radius, both sides)."""
    flips = draw(st.lists(st.integers(0, 255), max_size=40, unique=True))
    for b in flips:
        base ^= 1 << b
    return base


@st.composite
def spread(draw: st.DrawFn, base: int) -> int:
    """``base`` with 1 or 2 bits flipped in every 16-bit chunk (16 to 32 bits): the case
    where no chunk matches exactly and multi-index hashing must probe neighbours."""
    for chunk in range(16):
        for b in draw(st.lists(st.integers(0, 15), min_size=1, max_size=2, unique=True)):
            base ^= 1 << (chunk * 16 + b)
    return base


@st.composite
def stored_and_query(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    query = draw(bits)
    stored = draw(st.lists(st.one_of(bits, near(query), spread(query)), max_size=60))
    extra = draw(st.lists(near(query), max_size=3))
    return stored, [query, *extra]


@settings(max_examples=150, deadline=None)
@given(case=stored_and_query(), radius=st.one_of(st.just(31), st.integers(0, 31)),
       tail=st.sampled_from([0, 1, 7, 1000]))
def test_index_equals_linear_scan(case: tuple[list[int], list[int]], radius: int,
                                  tail: int) -> None:
    stored, queries = case
    index = HashIndex(tail=tail)  # some hashes sorted, some in the tail
    half = len(stored) // 2
    index.add([_hex(v) for v in stored[:half]], list(range(half)))
    index.add([_hex(v) for v in stored[half:]], list(range(half, len(stored))))
    expected: dict[int, int] = {}
    packed = pack([_hex(v) for v in stored]) if stored else np.zeros((0, 4), np.uint64)
    for q in pack([_hex(v) for v in queries]):
        for row, d in linear_scan(packed, q, radius):
            expected[row] = min(d, expected.get(row, 256))
    assert index.search([_hex(v) for v in queries], radius) == expected


def test_radius_and_arguments_are_checked() -> None:
    index = HashIndex()
    with pytest.raises(ValueError, match="radii from 0 to 31"):
        index.search(["0" * 64], 32)
    with pytest.raises(ValueError, match="one key per hash"):
        index.add(["0" * 64], [])
    assert index.search(["0" * 64]) == {} and len(index) == 0


@settings(max_examples=60, deadline=None)
@given(case=stored_and_query(), more=st.lists(st.lists(bits, min_size=1, max_size=3),
                                             max_size=4), tail=st.sampled_from([0, 7, 1000]))
def test_many_groups_at_once_equal_one_by_one(case: tuple[list[int], list[int]],
                                               more: list[list[int]], tail: int) -> None:
    stored, queries = case
    groups = [[_hex(v) for v in queries], *([_hex(v) for v in g] for g in more)]
    index = HashIndex(tail=tail)
    index.add([_hex(v) for v in stored], list(range(len(stored))))
    one_by_one = [index.search(g) for g in groups]
    assert index.search_many(groups) == one_by_one
