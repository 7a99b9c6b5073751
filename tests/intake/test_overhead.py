"""Per-file overhead of the worker pool: 2,000 small JPEGs through 1 and 2 workers.

Run ``pytest tests/intake/test_overhead.py -s`` to see the numbers. The assertion is
deliberately loose (shared CI machines are noisy); the measured figures are printed.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from types import ModuleType

from PIL import Image

from svidok.intake.extract import ExtractorPool, extract_in_process

COUNT = 2000


def _small_jpegs(make_samples: ModuleType, folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(COUNT):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (i % 256, (i * 7) % 256, 90)).save(
            buffer,
            "JPEG",
            quality=80,
            exif=make_samples.exif_bytes(
                make="Samsung",
                model="SM-A525F",
                when=make_samples.PHOTOS[0][3],
                gps=(50.5436 + i / 1e5, 30.2171, 142.0),
            ),
        )
        path = folder / f"IMG_{i:04d}.jpg"
        path.write_bytes(buffer.getvalue())
        paths.append(path)
    return paths


def _through_pool(paths: list[Path], workers: int) -> float:
    with ExtractorPool(workers=workers) as pool:
        for future in [pool.submit(p) for p in paths[: workers * 4]]:  # warm up imports
            future.result()
        started = time.perf_counter()
        futures = [pool.submit(p) for p in paths]
        results = [f.result() for f in futures]
        elapsed = time.perf_counter() - started
    assert all(r.status == "complete" for r in results)
    return elapsed


def test_pool_overhead_per_small_file(make_samples: ModuleType, tmp_path: Path) -> None:
    paths = _small_jpegs(make_samples, tmp_path / "jpegs")
    for path in paths[:10]:
        extract_in_process(path)
    started = time.perf_counter()
    for path in paths:
        assert extract_in_process(path).status == "complete"
    serial = (time.perf_counter() - started) / COUNT
    one = _through_pool(paths, 1) / COUNT
    two = _through_pool(paths, 2) / COUNT
    overhead = one - serial
    print(
        f"\n{COUNT} small JPEGs: in-process {serial * 1e3:.3f} ms/file; "
        f"pool, 1 worker {one * 1e3:.3f} ms/file (overhead {overhead * 1e3:.3f} ms/file); "
        f"pool, 2 workers {two * 1e3:.3f} ms/file wall ({two * COUNT:.2f} s total)"
    )
    assert overhead < 5e-3
