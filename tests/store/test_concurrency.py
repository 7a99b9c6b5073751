"""Several processes adding at once: one winner per object, nothing lost, store valid."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from svidok.store import OcflStore, StoreProblem

from .helpers import HERE, ocfl_py_root, subprocess_env

WORKER = HERE / "_worker.py"


def start(args: dict[str, object]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", line + (proc.stderr.read() if proc.stderr else "")
    return proc


def go_all(procs: list[subprocess.Popen[str]]) -> list[str]:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(out.strip())
    return results


def clean(store: OcflStore) -> None:
    problems = [p for p in store.scan() if isinstance(p, StoreProblem)]
    assert problems == [], [str(p) for p in problems]
    ok, num, good, errs = ocfl_py_root(store.root)
    assert ok and num == good, errs


@pytest.mark.parametrize("skip_precheck", [False, True], ids=["precheck", "race-at-rename"])
def test_two_processes_add_the_same_object(
    store: OcflStore, tmp_path: Path, skip_precheck: bool
) -> None:
    rounds = 8
    for r in range(rounds):
        data = f"the same evidence, round {r}".encode()
        procs, incoming = [], []
        for w in range(2):
            staging = tmp_path / f"staging-{r}-{w}"
            staging.mkdir()
            f = staging / "incoming"
            f.write_bytes(data)
            incoming.append(f)
            procs.append(
                start(
                    {
                        "root": str(store.root),
                        "staging": str(staging),
                        "incoming": str(f),
                        "skip_precheck": skip_precheck,
                    }
                )
            )
        results = go_all(procs)
        won = [r for r in results if r.startswith("won ")]
        lost = [r for r in results if r.startswith("exists ")]
        assert len(won) == 1 and len(lost) == 1, results
        if skip_precheck:  # both built the whole object; the loser met it at the rename
            assert lost[0].startswith("exists object at "), lost
        object_id = OcflStore.object_id(hashlib.sha256(data).hexdigest())
        with store.open_content(object_id) as fh:
            assert fh.read() == data
        # the winner's file went into the store; the loser's is back where it was
        assert sum(f.exists() for f in incoming) == 1
        for f in incoming:
            assert sorted(p.name for p in f.parent.iterdir()) == (
                ["incoming"] if f.exists() else []
            )
    assert len(list(store.iter_objects())) == rounds
    clean(store)


def _shared_prefix_contents(prefix_len: int, groups: int) -> list[list[bytes]]:
    """Pairs of contents whose object folders share their first ``prefix_len`` hex digits."""
    seen: dict[str, bytes] = {}
    found: list[list[bytes]] = []
    for i in itertools.count():
        data = f"content {prefix_len} {i}".encode()
        object_id = "sha256:" + hashlib.sha256(data).hexdigest()
        key = hashlib.sha256(object_id.encode()).hexdigest()[:prefix_len]
        if key in seen:
            found.append([seen.pop(key), data])
            if len(found) == groups:
                return found
        else:
            seen[key] = data
    raise AssertionError("unreachable")


def test_processes_adding_objects_that_share_layout_folders(
    store: OcflStore, tmp_path: Path
) -> None:
    contents = [c for group in _shared_prefix_contents(3, 2) for c in group]
    contents += _shared_prefix_contents(6, 1)[0]
    procs = []
    for n, data in enumerate(contents):
        staging = tmp_path / f"staging-{n}"
        staging.mkdir()
        (staging / "incoming").write_bytes(data)
        procs.append(
            start(
                {
                    "root": str(store.root),
                    "staging": str(staging),
                    "incoming": str(staging / "incoming"),
                }
            )
        )
    results = go_all(procs)
    assert all(r.startswith("won ") for r in results), results
    for data in contents:
        object_id = OcflStore.object_id(hashlib.sha256(data).hexdigest())
        with store.open_content(object_id) as fh:
            assert fh.read() == data
    clean(store)
