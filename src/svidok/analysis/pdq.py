"""PDQ and vPDQ: the hashes, their text form, and the published matching rules.

PDQ (Meta, ThreatExchange ``pdq/``) gives a picture a 256-bit hash and a quality from 0 to
100. The thresholds are the ones published with it (``pdq/README.md``, "Matching"): two
hashes match at a Hamming distance of at most :data:`MATCH_DISTANCE` (31), and a hash of
quality below :data:`MIN_QUALITY` (50) is not compared at all.

vPDQ (ThreatExchange ``vpdq/``) hashes a video as the PDQ hashes of frames sampled once per
second. Its matching rule (vpdq 0.2.5 ``README.md``, "Comparison (Matching) Algorithm", and
``cpp/vpdq/cpp/hashing/matchTwoHash.cpp``; frames once a second as ``python/vpdq.pyx``
``computeHash(seconds_per_hash=1.0)``): take the unique frame hashes of each video with
quality >= F; a frame of one video is matched when some frame of the other is within
distance D; the share of matched frames is computed both ways, and the videos match when
the comparison video's share >= P_c and the query's >= P_q. Svidok uses D = 31, F = 50 and
P_c = P_q = :data:`VIDEO_MATCH_PERCENT` (80), so that the rule is symmetric.

This module computes nothing from files (that is :mod:`svidok.analysis._hash_media`, in the
isolated worker); it holds what both sides share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

MATCH_DISTANCE: Final = 31
MIN_QUALITY: Final = 50
VIDEO_MATCH_PERCENT: Final = 80.0
IMAGE_ALGORITHM: Final = "pdq"
VIDEO_ALGORITHM: Final = "vpdq"
HEX_LENGTH: Final = 64  # 256 bits


def is_hash(text: object) -> bool:
    """Whether ``text`` is a PDQ hash in its text form (64 lowercase hex digits)."""
    return (isinstance(text, str) and len(text) == HEX_LENGTH
            and all(c in "0123456789abcdef" for c in text))


def distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hashes in hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass(frozen=True)
class Frame:
    """One sampled frame of a video: its PDQ hash, quality and time in seconds."""

    hash: str
    quality: int
    seconds: float


@dataclass(frozen=True)
class VideoMatch:
    """How much of each video the other one covers, in percent of usable unique frames."""

    query_percent: float
    other_percent: float

    @property
    def is_match(self) -> bool:
        return (self.query_percent >= VIDEO_MATCH_PERCENT
                and self.other_percent >= VIDEO_MATCH_PERCENT)


def pack(hashes: Sequence[str]) -> npt.NDArray[np.uint64]:
    """Hex hashes as an (n, 4) array of big-endian 64-bit words (hash bit order kept)."""
    raw = b"".join(bytes.fromhex(h) for h in hashes)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


def _usable(frames: Sequence[Frame]) -> npt.NDArray[np.uint64]:
    return pack(sorted({f.hash for f in frames if f.quality >= MIN_QUALITY}))


def _matched(mine: npt.NDArray[np.uint64], theirs: npt.NDArray[np.uint64]) -> int:
    """How many rows of ``mine`` have a row of ``theirs`` within the match distance."""
    count = 0
    for start in range(0, len(mine), 256):
        block = mine[start : start + 256, None, :] ^ theirs[None, :, :]
        near = np.bitwise_count(block).sum(axis=2, dtype=np.int64) <= MATCH_DISTANCE
        count += int(near.any(axis=1).sum())
    return count


def video_match(query: Sequence[Frame], other: Sequence[Frame]) -> VideoMatch:
    """vPDQ's comparison of two videos' frames (see the module docstring); a video with no
    usable frame matches nothing (0 %)."""
    q, c = _usable(query), _usable(other)
    if not len(q) or not len(c):
        return VideoMatch(0.0, 0.0)
    return VideoMatch(round(_matched(q, c) * 100 / len(q), 2),
                      round(_matched(c, q) * 100 / len(c), 2))
