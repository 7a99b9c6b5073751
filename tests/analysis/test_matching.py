"""Generated transformations of natural-looking pictures (resize, crop 5 %, re-encode at
low quality, brightness, mirror) must match their original by PDQ's published rule, and
unrelated pictures must not; the same for videos by vPDQ's rule. Hashed through the real
isolated worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.kit import TRANSFORMS, jpeg, natural, video
from conftest import write
from svidok.analysis.hashing import Hashed, HashWorker
from svidok.analysis.pdq import MATCH_DISTANCE, MIN_QUALITY, Frame, distance, video_match

SEEDS = (11, 12, 13)


def _hash(worker: HashWorker, path: Path, media_type: str = "image/jpeg") -> Hashed:
    got = worker.hash(path, media_type)
    assert isinstance(got, Hashed), got
    return got


def _closest(query: Hashed, other: Hashed) -> int:
    """As the index compares: the query's eight dihedral hashes against the stored one."""
    assert query.hash is not None and other.hash is not None
    return min(distance(h, other.hash) for h in [query.hash, *query.dihedral])


@pytest.fixture(scope="module")
def hashed(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, str], Hashed]:
    folder = tmp_path_factory.mktemp("pictures")
    out = {}
    with HashWorker() as worker:
        for seed in SEEDS:
            image = natural(seed)
            out[(seed, "original")] = _hash(worker, write(folder / f"{seed}.jpg", jpeg(image)))
            for name, transform in TRANSFORMS.items():
                path = write(folder / f"{seed}-{name}.jpg", transform(image))
                out[(seed, name)] = _hash(worker, path)
    return out


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_a_transformed_copy_matches(hashed: dict[tuple[int, str], Hashed], transform: str) -> None:
    for seed in SEEDS:
        original, copy = hashed[(seed, "original")], hashed[(seed, transform)]
        assert (original.quality or 0) >= MIN_QUALITY and (copy.quality or 0) >= MIN_QUALITY
        assert _closest(original, copy) <= MATCH_DISTANCE, (seed, transform)
        assert _closest(copy, original) <= MATCH_DISTANCE, (seed, transform)
        if transform == "flip":  # found only through the dihedral hashes
            assert original.hash is not None and copy.hash is not None
            assert distance(original.hash, copy.hash) > MATCH_DISTANCE


def test_unrelated_pictures_do_not_match(hashed: dict[tuple[int, str], Hashed]) -> None:
    for (seed, name), query in hashed.items():
        for (other, other_name), stored in hashed.items():
            if other != seed:
                assert _closest(query, stored) > MATCH_DISTANCE, (seed, name, other, other_name)


def test_videos_match_by_vpdq(tmp_path: Path) -> None:
    with HashWorker() as worker:
        original = _hash(worker, write(tmp_path / "a.mp4", video([1, 2, 3, 4])), "video/mp4")
        smaller = _hash(worker, write(tmp_path / "b.mp4", video([1, 2, 3, 4], size=(240, 180),
                                                               quality=12)), "video/mp4")
        other = _hash(worker, write(tmp_path / "c.mp4", video([5, 6, 7, 8])), "video/mp4")
    assert original.interval == 1.0 and len(original.frames) == 4
    assert [f[2] for f in original.frames] == [0.0, 1.0, 2.0, 3.0]

    def frames(h: Hashed) -> list[Frame]:
        return [Frame(str(f[0]), int(f[1]), float(f[2])) for f in h.frames]

    match = video_match(frames(original), frames(smaller))
    assert match.is_match and match.query_percent == 100.0
    assert not video_match(frames(original), frames(other)).is_match
    half = video_match(frames(original), frames(original)[:2])  # a clip: half the frames
    assert half.other_percent == 100.0 and half.query_percent == 50.0 and not half.is_match


def test_what_cannot_be_hashed_says_why(tmp_path: Path) -> None:
    with HashWorker(image_timeout=20) as worker:
        cut = write(tmp_path / "cut.jpg", jpeg(natural(3))[:500])
        assert isinstance(worker.hash(cut, "image/jpeg"), str)
        assert "neither a picture nor a video" in str(worker.hash(cut, "text/plain"))
        noise = write(tmp_path / "noise.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(5000))
        assert isinstance(worker.hash(noise, "video/mp4"), str)
        tiny = write(tmp_path / "tiny.png", b"")
        assert isinstance(worker.hash(tiny, "image/png"), str)
        good = write(tmp_path / "good.jpg", jpeg(natural(4)))  # the worker still serves
        assert isinstance(worker.hash(good, "image/jpeg"), Hashed)


def test_a_stopped_worker_is_replaced(tmp_path: Path) -> None:
    good = write(tmp_path / "good.jpg", jpeg(natural(5)))
    with HashWorker(image_timeout=0.001) as worker:  # no worker answers that fast
        assert str(worker.hash(good, "image/jpeg")).startswith("stopped after")
        first = worker.pid()
        assert first is None  # killed and reaped
        worker.image_timeout = 60.0
        assert isinstance(worker.hash(good, "image/jpeg"), Hashed)  # a new worker
    with pytest.raises(ValueError):
        HashWorker(image_timeout=0)
    with pytest.raises(ValueError):
        HashWorker(memory_limit=1 << 20)


def test_a_worker_out_of_memory_says_so(tmp_path: Path) -> None:
    good = write(tmp_path / "good.jpg", jpeg(natural(6)))
    with HashWorker(memory_limit=24 << 20) as worker:  # too little to load the decoders
        assert worker.hash(good, "image/jpeg") == "out of memory (24 MiB)"
