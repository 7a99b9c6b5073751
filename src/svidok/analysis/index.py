"""Finding near-duplicate PDQ hashes quickly: multi-index hashing (Norouzi, Punjani and
Fleet, "Fast search in Hamming space with multi-index hashing", CVPR 2012; the method of
ThreatExchange's ``pdq/cpp/index/mih.h``) over 256-bit hashes cut into 16 chunks of 16
bits.

Pigeonhole: if two hashes differ in at most 31 bits, the 16 chunks share those bits out,
so at least one chunk differs in at most 1 bit (16 chunks × 2 bits = 32 > 31). A query
therefore probes, in each chunk, its own value and its 16 one-bit neighbours; every hash
found there is a candidate, and candidates are checked with their full distance. For
each chunk the index keeps the stored hashes' chunk values sorted (numpy ``argsort``), so
a probe is a binary search. Hashes added after the last sort go to a small tail that is
scanned linearly and folded in when it grows (:data:`TAIL`).

:func:`linear_scan` is the plain alternative (XOR and popcount over every stored hash):
the benchmark (bench/p6_pdq.py) measures both, and a property test checks that the index
finds exactly what the scan finds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from svidok.analysis.pdq import MATCH_DISTANCE, pack

CHUNKS: Final = 16
TAIL: Final = 4096
_FLIPS: Final = np.array([0] + [1 << b for b in range(16)], dtype=np.uint16)

Packed = npt.NDArray[np.uint64]


def linear_scan(
    packed: Packed, query: Packed, radius: int = MATCH_DISTANCE
) -> list[tuple[int, int]]:
    """(row, distance) of every row of ``packed`` within ``radius`` of ``query``, by row."""
    if not len(packed):
        return []
    dist = np.bitwise_count(packed ^ query).sum(axis=1, dtype=np.int64)
    rows = np.flatnonzero(dist <= radius)
    return [(int(r), int(dist[r])) for r in rows]


def _chunks(packed: Packed) -> npt.NDArray[np.uint16]:
    """(n, 16) 16-bit chunks of each hash, most significant first."""
    return packed.astype(">u8").view(">u2").astype(np.uint16).reshape(-1, CHUNKS)


class HashIndex:
    """256-bit hashes, each with an integer key (the caller's meaning), searchable within
    a Hamming radius of at most 31. Safe to query from several threads while adding."""

    def __init__(self, tail: int = TAIL) -> None:
        self._tail = tail  # hashes kept unsorted (scanned) before the chunk tables are remade
        self._lock = threading.Lock()
        self._packed: Packed = np.zeros((0, 4), dtype=np.uint64)
        self._keys: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._order: list[npt.NDArray[np.int64]] = []
        self._sorted: list[npt.NDArray[np.uint16]] = []
        self._indexed = 0  # rows covered by the sorted chunk tables

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, hashes: Sequence[str], keys: Sequence[int]) -> None:
        """Add hex ``hashes`` with their ``keys`` (same length)."""
        if len(hashes) != len(keys):
            raise ValueError("one key per hash")
        if not hashes:
            return
        packed = pack(hashes)
        with self._lock:
            self._packed = np.concatenate([self._packed, packed])
            self._keys = np.concatenate([self._keys, np.asarray(keys, dtype=np.int64)])
            if len(self._keys) - self._indexed > self._tail:
                self._reindex()

    def _reindex(self) -> None:
        chunks = _chunks(self._packed)
        self._order = [np.argsort(chunks[:, j], kind="stable") for j in range(CHUNKS)]
        self._sorted = [chunks[order, j] for j, order in enumerate(self._order)]
        self._indexed = len(self._keys)

    def search(self, hashes: Sequence[str],
               radius: int = MATCH_DISTANCE) -> dict[int, int]:
        """Key -> smallest distance, for stored hashes within ``radius`` (at most 31) of
        any of ``hashes`` (e.g. a picture's eight dihedral hashes)."""
        return self.search_many([hashes], radius)[0]

    def search_many(self, groups: Sequence[Sequence[str]],
                    radius: int = MATCH_DISTANCE) -> list[dict[int, int]]:
        """:meth:`search` for each group of hashes, all probed together (a whole case's
        pictures at once); for many groups the unsorted tail is sorted in first."""
        if not 0 <= radius <= MATCH_DISTANCE:
            raise ValueError(f"the index answers radii from 0 to {MATCH_DISTANCE}")
        with self._lock:
            if len(groups) > 1 and self._indexed < len(self._keys):
                self._reindex()
            packed, keys, indexed = self._packed, self._keys, self._indexed
            order, table = self._order, self._sorted
        found: list[dict[int, int]] = [{} for _ in groups]
        flat = [h for group in groups for h in group]
        if not len(keys) or not flat:
            return found
        queries = pack(flat)
        group_of = np.repeat(np.arange(len(groups), dtype=np.int64),
                             [len(group) for group in groups])
        rows_parts: list[npt.NDArray[np.int64]] = []
        qids_parts: list[npt.NDArray[np.int64]] = []
        tail = np.arange(indexed, len(keys), dtype=np.int64)
        if len(tail):  # every query against the unsorted tail
            rows_parts.append(np.tile(tail, len(queries)))
            qids_parts.append(np.repeat(np.arange(len(queries), dtype=np.int64), len(tail)))
        if indexed:
            qchunks = _chunks(queries)  # (q, 16)
            owner = np.repeat(np.arange(len(queries), dtype=np.int64), len(_FLIPS))
            for j in range(CHUNKS):
                probes = (qchunks[:, j, None] ^ _FLIPS[None, :]).ravel()
                lo = np.searchsorted(table[j], probes, side="left")
                hi = np.searchsorted(table[j], probes, side="right")
                positions, which = _ranges(lo, hi, owner)
                rows_parts.append(order[j][positions])
                qids_parts.append(which)
        rows, qids = np.concatenate(rows_parts), np.concatenate(qids_parts)
        # each candidate against the query that found it (a pair found twice: same answer)
        dist = np.bitwise_count(packed[rows] ^ queries[qids]).sum(axis=1, dtype=np.int64)
        near = dist <= radius
        for row, qid, d in zip(rows[near].tolist(), qids[near].tolist(), dist[near].tolist(),
                               strict=True):
            best = found[int(group_of[qid])]
            key = int(keys[row])
            if key not in best or d < best[key]:
                best[key] = d
        return found


def _ranges(
    lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp], owner: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The positions lo[i] .. hi[i]-1 of every range, concatenated (vectorised), and for
    each position the ``owner`` of its range."""
    lengths = (hi - lo).astype(np.int64)
    keep = lengths > 0
    starts, lengths, owners = lo[keep].astype(np.int64), lengths[keep], owner[keep]
    offsets = np.cumsum(lengths) - lengths
    positions = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - offsets,
                                                                          lengths)
    return positions, np.repeat(owners, lengths)
