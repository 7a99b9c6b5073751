"""P5: inclusion proofs, receipts and the full ledger check at 1,000,000 entries.

    .venv/bin/python bench/p5_ledger_scale.py [--entries 1000000] [--samples 10000]

Builds a data home whose ledger holds the two ``init`` entries plus ``--entries`` realistic
acquisition entries (about 1 KB each, the fields ``svidok ingest`` writes), appended with
``Ledger.append`` in batches of 10,000 under ``home.ledger.locked()``, then signed once
(``home.ledger.sign()``). Then, on a freshly opened home:

* ``Ledger.tree.inclusion_proof(i)`` for ``--samples`` random indexes, each timed on its
  own: mean and 99th percentile; target < 1 ms. Reference: checking that same proof with
  ``svidok.ledger.merkle.verify_inclusion`` (about twenty SHA-256 of 65 bytes, pure
  Python), timed the same way.
* ``Ledger.receipt(i)`` (reads the latest checkpoint, the proof, and the entry's bytes from
  the file) for the same indexes; target < 1 ms; same reference.
* ``svidok.verify.verify_ledger(home)`` (every line re-read, checked canonical and in
  order, the RFC 9162 tree rebuilt, every checkpoint checked): target < 5 s. Reference:
  reading the file and computing every RFC 9162 leaf hash, single process, nothing else
  (the least any full check must do). Warm and, where possible, cold page cache.

Then, for information, ``verify_ledger`` on two smaller ledgers (``--mix-entries``): one of
photo intake as ``svidok ingest`` writes it (acquisition, extraction, ... ; the extraction
data is the real one of a generated JPEG, with GPS floats), one of acquisitions only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import (
    Figure,
    acquisition_drafts,
    alternate,
    best,
    cache_modes,
    emit,
    header,
    info,
    init_home,
    load_make_samples,
    median,
    need_space,
    parse,
    parser,
    percentile,
    remove,
    runs_text,
    scratch,
    scratch_base,
    settle,
)

BATCH = 10_000
PROOF_TARGET_MS = 1.0
CHECK_TARGET_S = 5.0


def build(path: Path, entries: int, drafts: Callable[[int, int], list[Any]]) -> None:
    """A data home whose ledger gets ``entries`` more entries, ``drafts(count, start)``."""
    from svidok.home import Home

    init_home(path)
    t0 = time.perf_counter()
    with Home.open(path) as home, home.ledger.locked():
        done = 0
        while done < entries:
            n = min(BATCH, entries - done)
            home.ledger.append(drafts(n, done))
            done += n
        home.ledger.sign()
        size, end = home.ledger.size, home.ledger.end
    info(
        f"built a ledger of {size:,} entries, {end / 2**20:.0f} MiB, "
        f"in {time.perf_counter() - t0:.1f} s (untimed set-up)"
    )


def jpeg_extraction_data(tmp: Path) -> dict[str, Any]:
    """The data of the extraction entry ``svidok ingest`` writes for one generated JPEG
    (camera, times, GPS: it holds floats, as photos' entries do)."""
    from svidok.home import Home
    from svidok.intake.ingest import IngestOptions, ingest

    src = tmp / "one-jpeg"
    src.mkdir()
    load_make_samples().make_jpeg(src / "IMG_0001.JPG", seed=1)
    home_path = init_home(tmp / "one-jpeg-home")
    with Home.open(home_path) as home:
        ingest(home, [bytes(src)], IngestOptions(case="bench", collector="bench"))
        found = [e for e in home.ledger.iter_entries() if e.type == "extraction"]
    remove(home_path)
    remove(src)
    return dict(found[0].data)


def mixed_drafts(extraction: dict[str, Any]) -> Callable[[int, int], list[Any]]:
    """Entries as ingest writes them for photos: acquisition, extraction, acquisition..."""
    from svidok.ledger.entries import Draft

    def drafts(count: int, start: int) -> list[Any]:
        acquisitions = acquisition_drafts((count + 1) // 2, start=start)
        out = []
        for k, acq in enumerate(acquisitions):
            out.append(acq)
            if len(out) < count:
                data = dict(extraction, object=acq.data["object"])
                data["metadata"] = dict(extraction["metadata"], size_bytes=start + k)
                out.append(Draft("extraction", acq.actor, data))
        return out

    return drafts


def time_verify(home: Any, size: int) -> float:
    from svidok.verify import verify_ledger

    t0 = time.perf_counter()
    report = verify_ledger(home)
    elapsed = time.perf_counter() - t0
    if not report.ok or report.entries != size:
        raise RuntimeError(f"verify_ledger: {report.findings[:3]}")
    return elapsed


def timed_each(fn: Any, args: list[Any]) -> list[float]:
    """Milliseconds per call, each call timed on its own."""
    out = []
    clock = time.perf_counter_ns
    for a in args:
        t0 = clock()
        fn(*a)
        out.append((clock() - t0) / 1e6)
    return out


def leaf_hash_file(path: Path) -> float:
    """Reference: read the ledger and hash every line as an RFC 9162 leaf."""
    from hashlib import sha256

    t0 = time.perf_counter()
    count = 0
    with path.open("rb") as fh:
        pending = b""
        while chunk := fh.read(16 << 20):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                sha256(b"\x00" + line).digest()
            count += len(lines)
    return time.perf_counter() - t0


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--entries", type=int, default=1_000_000, help="entries appended (10^6)")
    p.add_argument("--samples", type=int, default=10_000, help="random indexes (10,000)")
    p.add_argument(
        "--mix-entries",
        type=int,
        default=100_000,
        help="entries of the photo-intake ledgers (100,000; 0 skips that figure)",
    )
    args = parse(p)
    header(f"P5 ledger at {args.entries:,} entries: proofs, receipts, full check")
    modes = cache_modes(args.cache)
    need_space(scratch_base(), args.entries * 2200 + (1 << 30))
    from svidok.home import Home
    from svidok.ledger.merkle import verify_inclusion

    with scratch("p5") as tmp:
        path = tmp / "home"
        build(path, args.entries, lambda n, start: acquisition_drafts(n, start=start))
        settle("warm")
        t0 = time.perf_counter()
        home = Home.open(path)
        opened = time.perf_counter() - t0
        try:
            ledger = home.ledger
            size = ledger.size
            info(f"Home.open with {size:,} entries: {opened:.3f} s (loads the tree cache)")
            rng = random.Random(20240117)
            indexes = [rng.randrange(size) for _ in range(args.samples)]
            root = ledger.tree.root(size)
            for i in indexes[:100]:  # warm-up
                ledger.tree.inclusion_proof(i, size)
            proof_ms = timed_each(ledger.tree.inclusion_proof, [(i, size) for i in indexes])
            proofs = [ledger.tree.inclusion_proof(i, size) for i in indexes]
            checks = [
                (ledger.tree.leaf(i), i, size, pr, root)
                for i, pr in zip(indexes, proofs, strict=True)
            ]
            verify_ms = timed_each(verify_inclusion, checks)
            receipt_ms = timed_each(ledger.receipt, [(i,) for i in indexes])
            ref = sum(verify_ms) / len(verify_ms)
            for label, values in (
                ("Ledger.tree.inclusion_proof", proof_ms),
                ("Ledger.receipt", receipt_ms),
            ):
                for stat, value in (
                    ("mean", sum(values) / len(values)),
                    ("p99", percentile(values, 99)),
                ):
                    emit(
                        Figure(
                            "P5",
                            f"{label} at {size:,} entries, {stat} of {len(values):,}",
                            value,
                            "ms",
                            "verify_inclusion (mean)",
                            ref,
                            f"< {PROOF_TARGET_MS:g} ms",
                            value < PROOF_TARGET_MS,
                            note=f"max {max(values):.3f} ms",
                        )
                    )

            for mode in modes:

                def check(_r: int, mode: str = mode) -> float:
                    settle(mode)
                    return time_verify(home, size)

                def reference(_r: int, mode: str = mode) -> float:
                    settle(mode)
                    return leaf_hash_file(ledger.path)

                times = alternate(args.runs, {"svidok": check, "ref": reference}, args.warmup)
                s, h = times["svidok"], times["ref"]
                emit(
                    Figure(
                        "P5",
                        f"verify_ledger at {size:,} entries, {mode} cache, median of {len(s)}",
                        median(s),
                        "s",
                        "read + leaf-hash every line, 1 process",
                        median(h),
                        f"< {CHECK_TARGET_S:g} s",
                        median(s) < CHECK_TARGET_S,
                        note=f"best {best(s):.3f} s",
                    )
                )
                info(f"verify_ledger {runs_text(s)}; reference {runs_text(h)}")
        finally:
            home.close()
        remove(path)
        if args.mix_entries:
            mixed_check(tmp, args)


def mixed_check(tmp: Path, args: Any) -> None:
    """verify_ledger on ledgers of photo intake (half extraction entries, with floats)
    against the same number of acquisition entries only."""
    from svidok.home import Home

    n = args.mix_entries
    extraction = jpeg_extraction_data(tmp)
    homes = {
        "acquisitions": tmp / "home-acquisitions",
        "mixed": tmp / "home-mixed",
    }
    build(homes["acquisitions"], n, lambda count, start: acquisition_drafts(count, start=start))
    build(homes["mixed"], n, mixed_drafts(extraction))
    opened = {k: Home.open(v) for k, v in homes.items()}
    try:
        contenders = {
            k: (lambda _r, h=h: (settle("warm"), time_verify(h, h.ledger.size))[1])
            for k, h in opened.items()
        }
        times = alternate(args.runs, contenders, args.warmup)
    finally:
        for h in opened.values():
            h.close()
    m, a = median(times["mixed"]), median(times["acquisitions"])
    emit(
        Figure(
            "P5",
            f"verify_ledger at {n + 2:,} entries of photo intake "
            f"(acquisition + JPEG extraction), warm, median of {args.runs}",
            m,
            "s",
            "same count, acquisitions only",
            a,
            "none (shows the cost of extraction entries)",
            None,
            note=f"{m / n * 1e6:.1f} vs {a / n * 1e6:.1f} us per entry; "
            f"1,000,000 such entries: about {m / n * 1e6:.0f} s",
        )
    )


if __name__ == "__main__":
    main()
