"""The ledger file: durable appends, recovery of torn writes, never two inconsistent signatures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from svidok.errors import InconsistentTreeError, LedgerCorruptError, LedgerError
from svidok.ledger.checkpoint import open_checkpoint, verify_receipt
from svidok.ledger.entries import Draft
from svidok.ledger.log import Ledger
from svidok.ledger.merkle import leaf_hash, root_from_leaf_hashes
from svidok.ledger.note import Signer

ORIGIN = "svidok.test/log"


@pytest.fixture()
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def _new(tmp_path: Path, signer: Signer) -> Ledger:
    return Ledger.create(tmp_path / "ledger", ORIGIN, signer)


def _append(ledger: Ledger, n: int, start: int = 0) -> None:
    with ledger.locked():
        ledger.append([Draft("verification", "t", {"n": start + i}) for i in range(n)])
        ledger.sign()


def test_append_sign_and_reopen(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    _append(ledger, 5)
    lines = (tmp_path / "ledger" / "entries.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 6
    root = root_from_leaf_hashes([leaf_hash(line) for line in lines[:-1]])
    latest = ledger.latest_checkpoint()
    assert (
        latest is not None and latest.checkpoint.size == 5 and latest.checkpoint.root_hash == root
    )
    assert open_checkpoint(latest.note, signer.verifier()).root_hash == root
    again = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    assert again.size == 5 and again.tree.root() == root
    assert [e.data["n"] for e in again.iter_entries()] == [0, 1, 2, 3, 4]
    assert again.entry(3).data["n"] == 3


def test_append_needs_lock(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    with pytest.raises(LedgerError):
        ledger.append([Draft("verification", "t", {})])


def test_receipts_verify_for_every_entry(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    _append(ledger, 13)
    for i in range(13):
        rec = ledger.receipt(i)
        cp = verify_receipt(rec, signer.verifier())
        assert cp.size == 13 and rec.extra == ledger.read_raw(i)


def test_caches_are_rebuilt_when_wrong(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    _append(ledger, 10)
    root = ledger.tree.root()
    (tmp_path / "ledger" / "cache" / "leaves.bin").write_bytes(b"\x00" * 64)
    (tmp_path / "ledger" / "cache" / "ends.bin").unlink()
    again = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    assert again.size == 10 and again.tree.root() == root


def test_torn_tail_is_set_aside_not_lost(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    _append(ledger, 3)
    path = tmp_path / "ledger" / "entries.jsonl"
    with path.open("ab") as fh:
        fh.write(b'{"actor":"t","data":{"n"')  # an interrupted write
    reader = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    assert reader.size == 3
    _append(reader, 2, start=3)
    assert [e.data["n"] for e in reader.iter_entries()] == [0, 1, 2, 3, 4]
    torn = list((tmp_path / "ledger" / "torn").iterdir())
    assert len(torn) == 1 and torn[0].read_bytes() == b'{"actor":"t","data":{"n"'


def test_refuses_to_sign_after_rewrite(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    _append(ledger, 4)
    path = tmp_path / "ledger" / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    # rewrite history: replace entry 1 by a valid entry with other content
    other = Ledger.create(tmp_path / "other", ORIGIN, signer)
    with other.locked():
        other.append([Draft("verification", "t", {"n": 99 + i}) for i in range(2)])
    lines[1] = other.read_raw(1)
    path.write_bytes(b"\n".join(lines))
    for name in ("leaves.bin", "ends.bin"):
        (tmp_path / "ledger" / "cache" / name).unlink()
    forged = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    with pytest.raises(InconsistentTreeError), forged.locked():
        forged.append([Draft("verification", "t", {})])
        forged.sign()


def test_refuses_to_write_after_truncation(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    _append(ledger, 4)
    path = tmp_path / "ledger" / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:2]) + b"\n")
    cut = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    with pytest.raises(LedgerCorruptError, match="removed or damaged"), cut.locked():
        pass


_WRITER = """
import sys
from pathlib import Path
from svidok.ledger.entries import Draft
from svidok.ledger.log import Ledger
from svidok.ledger.note import Signer
signer = Signer.from_skey(sys.argv[2])
ledger = Ledger(Path(sys.argv[1]), "svidok.test/log", signer.verifier(), signer)
for i in range(int(sys.argv[3])):
    with ledger.locked():
        ledger.append([Draft("verification", "p", {"who": sys.argv[4], "i": i}) for _ in range(3)])
        ledger.sign()
"""


def test_two_processes_append_concurrently(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path / "ledger"), signer.to_skey(), "40", who]
        )
        for who in ("a", "b")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    fresh = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    entries = list(fresh.iter_entries())
    assert len(entries) == 240
    assert sorted({(e.data["who"], e.data["i"]) for e in entries}) == sorted(
        {(w, i) for w in "ab" for i in range(40)}
    )
    latest = fresh.latest_checkpoint()
    assert latest is not None and latest.checkpoint.size == 240
    assert (
        latest.checkpoint.root_hash
        == ledger.tree.__class__([leaf_hash(e.raw) for e in entries]).root()
    )
    # every checkpoint ever signed is consistent with the final tree
    for _path, note in fresh.stored_checkpoints():
        cp = open_checkpoint(note, signer.verifier())
        assert fresh.tree.root(cp.size) == cp.root_hash
    assert os.listdir(tmp_path / "ledger" / "torn") == []


def test_group_commit_from_threads(tmp_path: Path, signer: Signer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from svidok.ledger.log import GroupCommitter

    ledger = _new(tmp_path, signer)
    with GroupCommitter(ledger) as gc:

        def work(k: int) -> list[int]:
            return [
                gc.append(Draft("verification", "t", {"k": k, "i": i})).index for i in range(50)
            ]

        with ThreadPoolExecutor(8) as ex:
            indexes = [i for chunk in ex.map(work, range(8)) for i in chunk]
    assert sorted(indexes) == list(range(400))
    fresh = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    assert fresh.size == 400
    latest = fresh.latest_checkpoint()
    assert latest is not None and latest.checkpoint.size == 400
    # every entry returned is the one on disk at that index
    assert {(e.data["k"], e.data["i"]) for e in fresh.iter_entries()} == {
        (k, i) for k in range(8) for i in range(50)
    }


def test_async_group_commit(tmp_path: Path, signer: Signer) -> None:
    import asyncio

    from svidok.ledger.log import AsyncGroupCommitter

    ledger = _new(tmp_path, signer)

    async def main() -> list[int]:
        async with AsyncGroupCommitter(ledger) as gc:
            results = await asyncio.gather(
                *(gc.append(Draft("verification", "t", {"n": n})) for n in range(300))
            )
        return [e.index for e in results]

    indexes = asyncio.run(main())
    assert sorted(indexes) == list(range(300))
    fresh = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    assert [fresh.entry(i).data["n"] for i in indexes] == list(range(300))


def test_group_commit_failure_reaches_every_writer(tmp_path: Path, signer: Signer) -> None:
    from svidok.ledger.log import GroupCommitter

    ledger = _new(tmp_path, signer)
    with GroupCommitter(ledger) as gc:
        with pytest.raises(ValueError):
            gc.append(Draft("verification", "t", {"bad": float("nan")}))
        assert gc.append(Draft("verification", "t", {"ok": 1})).index == 0


def test_one_bad_draft_fails_only_itself(tmp_path: Path, signer: Signer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from svidok.ledger.log import GroupCommitter

    ledger = _new(tmp_path, signer)
    with GroupCommitter(ledger) as gc:

        def work(n: int) -> str:
            data = {"bad": float("nan")} if n == 7 else {"n": n}
            try:
                gc.append(Draft("verification", "t", data))  # type: ignore[arg-type]
            except ValueError:
                return "refused"
            return "ok"

        with ThreadPoolExecutor(16) as ex:
            outcomes = list(ex.map(work, range(64)))
    assert outcomes.count("refused") == 1 and outcomes[7] == "refused"
    assert Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer).size == 63


def test_huge_garbage_tail_is_bounded_and_set_aside(tmp_path: Path, signer: Signer) -> None:
    ledger = _new(tmp_path, signer)
    _append(ledger, 2)
    path = tmp_path / "ledger" / "entries.jsonl"
    with path.open("ab") as fh:
        fh.write(b"x" * (5 << 20))  # 5 MiB with no line end
    again = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    assert again.size == 2
    _append(again, 1, start=2)
    assert again.size == 3 and path.read_bytes().count(b"\n") == 3


def test_threads_sharing_one_ledger_take_turns(tmp_path: Path, signer: Signer) -> None:
    """A server shares one open ledger between request threads: each write must hold the
    lock alone, and the thread holding it may take it again."""
    import threading

    ledger = _new(tmp_path, signer)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(20):
                with ledger.locked(), ledger.locked():  # nested use by the same thread
                    size = ledger.size
                    ledger.append([Draft("verification", "t", {"n": k * 100 + i})])
                    assert ledger.size == size + 1  # nobody else appended meanwhile
                    ledger.sign()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ledger.size == 80
    assert sorted(e.data["n"] for e in ledger.iter_entries()) == sorted(
        k * 100 + i for k in range(4) for i in range(20)
    )


def test_a_signing_stopped_between_its_two_writes_is_completed(
    tmp_path: Path, signer: Signer
) -> None:
    """sign() stores checkpoints/<size>.note, then replaces `checkpoint`: a kill in between
    leaves the stored one ahead. The next writer makes it the latest, and never signs
    anything inconsistent with it."""
    ledger = _new(tmp_path, signer)
    _append(ledger, 3)
    older = (tmp_path / "ledger" / "checkpoint").read_bytes()
    _append(ledger, 4, start=3)
    (tmp_path / "ledger" / "checkpoint").write_bytes(older)  # as if stopped mid-sign
    again = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    latest = again.latest_checkpoint()
    assert latest is not None and latest.checkpoint.size == 3
    with again.locked():
        completed = again.latest_checkpoint()
        assert completed is not None and completed.checkpoint.size == 7
    # a ledger cut back below the stored checkpoint is refused, not signed again
    (tmp_path / "ledger" / "checkpoint").write_bytes(older)
    data = (tmp_path / "ledger" / "entries.jsonl").read_bytes()
    lines = data.split(b"\n")
    (tmp_path / "ledger" / "entries.jsonl").write_bytes(b"\n".join(lines[:5]) + b"\n")
    cut = Ledger(tmp_path / "ledger", ORIGIN, signer.verifier(), signer)
    with pytest.raises(LedgerCorruptError), cut.locked():
        pass


def test_leftovers_of_stopped_writes_are_not_checkpoints(tmp_path: Path, signer: Signer) -> None:
    """A kill inside atomic_write leaves `.<name>.tmp-<pid>`: never read as a checkpoint,
    removed by the next writer."""
    ledger = _new(tmp_path, signer)
    _append(ledger, 2)
    note = (tmp_path / "ledger" / "checkpoint").read_bytes()
    stray = tmp_path / "ledger" / "checkpoints" / ".00000000000000000009.note.tmp-4485"
    stray.write_bytes(note)
    half = tmp_path / "ledger" / ".checkpoint.tmp-77"
    half.write_bytes(note[:10])
    assert ledger.unfinished_writes() == sorted([half, stray])
    assert all(".tmp-" not in p.name for p, _ in ledger.stored_checkpoints())
    with ledger.locked():
        pass
    assert not stray.exists() and not half.exists()
    assert ledger.unfinished_writes() == []
