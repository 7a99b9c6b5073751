"""Our PDQ hashes against the hashes Meta's C++ reference implementation published for
the PDQ project's own test images (tests/analysis/pdq_reference/README.md).

Tolerance, as PDQ's README ("Writing Your Own Hashing & Matching Implementations") defines
a correct implementation: where the quality is >= 80, within Hamming distance 10 of the
C++ reference (JPEG decoders differ in the last bits of pixels). We also require three of
them to be equal bit for bit (which they are with Pillow's decoder), so that a change of
bit order or of the luma formula cannot hide inside the tolerance.
"""

from __future__ import annotations

from pathlib import Path

from svidok.analysis.hashing import Hashed, HashWorker
from svidok.analysis.pdq import Frame, distance, video_match

HERE = Path(__file__).parent / "pdq_reference"

#: Output of ThreatExchange's ``pdq-photo-hasher`` (C++ reference implementation) for
#: ``pdq/data/reg-test-input/labelme-subset``, quoted from ThreatExchange ``pdq/sql/README.md``
#: (commit 3417c52bb60ba4f684f3e91656195f506ab06465). Copyright (c) Meta Platforms, Inc. and
#: affiliates; BSD licence (see pdq_reference/README.md).
REFERENCE = {
    "q0003.jpg": "54a977c221d14c1c43ba5e4e21d4a13989a3553f1462611cbb87fda7be83b677",
    "q0004.jpg": "992d44af36d69e6ca6b812485928bac11def254ef539ac6d07466c9abcc65b92",
    "q0122.jpg": "cfb2009ddd21c6dab0846a7745b5984757a8a4535b3377aea2591d32b33ff840",
    "q0291.jpg": "a0fe94f1e5cc1cc8dd855948498dc9243f7ca27336f036d7f212b74bc103c9a7",
    "q0746.jpg": "3049d96239e24d4dca2c55512b8b9b77425f4dbcf575a0a95555aaab5554aaaa",
    "q1050.jpg": "489db672e9190276d452aeab41eba20f02375fe4092d88defdf491a5c55c5f70",
    "q2821.jpg": "b150231ffae4710ffcf4f18bb574b109a576f14bb8543189f8743289f174b109",
}
PDQ_TOLERANCE = 10  # PDQ README: quality >= 80 -> within distance 10 of the reference


def test_hashes_agree_with_the_cpp_reference() -> None:
    exact = 0
    with HashWorker() as worker:
        for name, expected in REFERENCE.items():
            got = worker.hash(HERE / name, "image/jpeg")
            assert isinstance(got, Hashed), got
            assert got.hash is not None and got.quality is not None
            d = distance(got.hash, expected)
            if got.quality >= 80:
                assert d <= PDQ_TOLERANCE, (name, got.hash, d)
            else:  # the two near-blank pictures: too featureless to be compared at all
                assert got.quality < 50, (name, got.quality)
            exact += d == 0
    assert exact >= 3


def test_the_published_match_thresholds() -> None:
    a = REFERENCE["q0291.jpg"]
    flipped = format(int(a, 16) ^ ((1 << 31) - 1), "064x")  # 31 bits apart
    assert distance(a, flipped) == 31
    frames = [Frame(a, 100, 0.0)]
    assert video_match(frames, [Frame(flipped, 100, 0.0)]).is_match
    further = format(int(a, 16) ^ ((1 << 32) - 1), "064x")
    assert not video_match(frames, [Frame(further, 100, 0.0)]).is_match
    assert not video_match(frames, [Frame(a, 49, 0.0)]).is_match  # quality below 50
