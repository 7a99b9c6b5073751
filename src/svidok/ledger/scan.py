"""Reading a ledger file from scratch, fast: every line checked (canonical RFC 8785, the
entry structure, consecutive indexes) and hashed into RFC 9162 leaves.

Large files are cut at line boundaries and read by one process per core; the parent joins
the pieces and checks that their indexes follow on. Nothing here trusts caches."""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from hashlib import sha256 as _sha256
from pathlib import Path
from typing import Any

from svidok.ledger.entries import MAX_ENTRY_BYTES, entry_fields
from svidok.ledger.merkle import HashTree, subtree_levels

_READ = 16 << 20
PARALLEL_FROM = 32 << 20  # files smaller than this are read in-process
_LEAF = b"\x00"  # RFC 9162 leaf prefix


@dataclass
class Piece:
    """What one reader found in its byte range."""

    start: int
    count: int = 0
    first_index: int | None = None
    leaves: bytes = b""
    good_end: int = 0  # offset just after the last valid line
    error: str | None = None
    first: dict[str, Any] | None = None  # the first entry, when the piece starts the file
    acquisitions: list[tuple[int, str, Any]] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)  # offset after each valid line
    levels: list[bytes] = field(default_factory=list)  # subtree_levels of the leaves
    tree: HashTree | None = None  # read_ledger: the tree of all valid entries (always set)


def read_piece(
    path: str,
    start: int,
    end: int,
    first_index: int | None = None,
    *,
    acquisitions: bool = False,
    ends: bool = False,
) -> Piece:
    """Check the lines in ``[start, end)`` (``start`` is a line start).

    ``first_index`` is the index the first line must have (0 at the start of the file;
    unknown elsewhere unless given). ``acquisitions``: also collect every acquisition's
    (and derivative's: both put an object in the store) index, object and size; ``ends``:
    the offset after each line. Reading stops at the
    first line that is not a valid entry, and at a line longer than any entry may be (a
    damaged or hostile file).
    """
    piece = Piece(start=start, good_end=start)
    leaves: list[bytes] = []
    add_leaf = leaves.append
    parse = entry_fields
    expected: int | None = 0 if start == 0 else first_index
    offset = start
    with open(path, "rb") as fh:
        fh.seek(start)
        pending = b""
        remaining = end - start
        while remaining > 0 and piece.error is None:
            chunk = fh.read(min(_READ, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            if len(pending) > MAX_ENTRY_BYTES:
                lines.append(pending)  # reported below as not an entry, or too long
                pending = b""
            for line in lines:
                if len(line) > MAX_ENTRY_BYTES:
                    piece.error = f"the line at byte {offset} is longer than any entry may be"
                    break
                try:
                    entry = parse(line, expected)
                except ValueError as exc:
                    piece.error = f"the line at byte {offset} {exc}"
                    break
                expected = entry.index + 1
                if expected == 1:
                    piece.first = {"type": entry.type, "data": entry.data}
                if acquisitions and entry.type in ("acquisition", "derivative"):
                    data = entry.data
                    piece.acquisitions.append(
                        (entry.index, str(data.get("object")), data.get("size"))
                    )
                add_leaf(_sha256(_LEAF + line).digest())
                offset += len(line) + 1
                if ends:
                    piece.ends.append(offset)
    piece.count = len(leaves)
    if piece.count:
        assert expected is not None
        piece.first_index = expected - piece.count
    piece.leaves = b"".join(leaves)
    piece.good_end = offset
    return piece


def _boundaries(path: Path, size: int, parts: int) -> list[int]:
    cuts = [0]
    with path.open("rb") as fh:
        for k in range(1, parts):
            fh.seek(size * k // parts)
            fh.readline()
            cut = fh.tell()
            if cuts[-1] < cut < size:
                cuts.append(cut)
    cuts.append(size)
    return cuts


def read_ledger(
    path: Path,
    progress: Callable[[int, int], None] | None = None,
    *,
    acquisitions: bool = False,
) -> Piece:
    """Check a whole ledger file; the result's ``error`` says where the valid part ends.
    ``acquisitions``: also collect every acquisition (see :func:`read_piece`)."""
    size = path.stat().st_size
    workers = min(os.cpu_count() or 1, 4)
    if size < PARALLEL_FROM or workers < 2:
        whole = read_piece(str(path), 0, size, acquisitions=acquisitions)
        whole.tree = HashTree.from_leaf_bytes(whole.leaves)
        whole.leaves = b""  # as below: the tree holds them
        if progress is not None:
            progress(size, size)
        return whole
    cuts = _boundaries(path, size, workers)
    pieces: list[Piece] = []
    with tempfile.TemporaryDirectory(prefix="svidok-scan-") as tmp:
        outs = [Path(tmp, f"piece-{k}") for k in range(len(cuts) - 1)]
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-P",
                    "-m",
                    "svidok.ledger.scan",
                    str(path),
                    str(a),
                    str(b),
                    str(out),
                    "acquisitions" if acquisitions else "-",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd="/",
            )
            for (a, b), out in zip(itertools.pairwise(cuts), outs, strict=True)
        ]
        for proc, out in zip(procs, outs, strict=True):
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise OSError(f"a ledger reader failed: {err.decode(errors='replace')[-500:]}")
            # written by our own child process just now
            pieces.append(Piece(**pickle.loads(out.read_bytes())))  # noqa: S301
            if progress is not None:
                progress(pieces[-1].good_end, size)
    whole = pieces[0]
    joined = [(0, whole.levels)]
    for piece in pieces[1:]:
        if whole.error is not None or whole.good_end != piece.start:
            break
        if piece.count and piece.first_index != whole.count:
            whole.error = (
                f"the line at byte {piece.start} says it is entry "
                f"{piece.first_index}, expected {whole.count}"
            )
            break
        joined.append((whole.count, piece.levels))
        whole.count += piece.count
        whole.acquisitions.extend(piece.acquisitions)
        whole.good_end = piece.good_end
        whole.error = piece.error
    whole.tree = HashTree.from_pieces(joined)  # its level 0 holds the leaves
    whole.leaves = b""
    return whole


def _main() -> None:
    path, start, end, out, what = sys.argv[1:6]
    piece = read_piece(path, int(start), int(end), acquisitions=what == "acquisitions")
    piece.levels = subtree_levels(piece.first_index or 0, piece.leaves)
    piece.leaves = b""  # level 0 of the levels
    shallow = {f.name: getattr(piece, f.name) for f in fields(piece)}  # asdict deep-copies
    Path(out).write_bytes(pickle.dumps(shallow, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _main()
