"""A process killed at any moment of add_object never leaves a half object in the store.

Two ways of killing: (1) deterministically, SIGKILL just before the n-th file-system
call of add_object, for every n until the call completes; (2) SIGKILL after a random
delay, many times. After each kill: the object's final path holds nothing or a complete,
valid object; the store has no stray or empty folders; and the content survives intact
somewhere (still at the caller's path, in the staging folder, or in the store).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from svidok.store import NewObject, OcflStore, StoreProblem

from .helpers import HERE, ocfl_py_root, subprocess_env

WORKER = HERE / "_worker.py"


def launch(args: dict[str, object]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def check_after_kill(store: OcflStore, data: bytes, incoming: Path, staging: Path) -> str:
    """Invariants after a (possibly) killed add; returns where the content is."""
    object_id = OcflStore.object_id(hashlib.sha256(data).hexdigest())
    final = store.object_path(object_id)
    problems = [p for p in store.scan() if isinstance(p, StoreProblem)]
    assert problems == [], [str(p) for p in problems]
    if final.exists():
        assert store.validate_object(final) == []
        with store.open_content(object_id) as fh:
            assert fh.read() == data
        where = "store"
    elif incoming.exists():
        assert incoming.read_bytes() == data
        assert store.interrupted_adds(staging) == []
        where = "incoming"
    else:
        copies = store.interrupted_adds(staging)
        assert len(copies) == 1, list(staging.rglob("*"))
        assert copies[0].read_bytes() == data
        # finish the interrupted add, as intake would at start-up
        digest = hashlib.sha256(data).hexdigest()
        store.add_object(
            NewObject(
                object_id,
                copies[0],
                digest_hex=digest,
                size=len(data),
                logical_name="original.bin",
                created=datetime(2024, 5, 2, tzinfo=UTC),
                message="recovered after a crash",
                user_name="test",
                user_address=None,
            ),
            staging_dir=staging,
        )
        assert store.validate_object(final) == []
        where = "staging"
    return where


def test_kill_before_every_step(store: OcflStore, tmp_path: Path) -> None:
    outcomes: dict[str, int] = {}
    step = 0
    while True:
        step += 1
        assert step < 500, "add_object should finish in fewer steps"
        data = f"evidence killed at step {step}".encode() * 1000
        staging = tmp_path / f"staging-{step}"
        staging.mkdir()
        incoming = staging / "incoming"
        incoming.write_bytes(data)
        proc = launch(
            {
                "root": str(store.root),
                "staging": str(staging),
                "incoming": str(incoming),
                "kill_at": step,
            }
        )
        assert proc.stdin is not None
        out, err = proc.communicate("go\n", timeout=60)
        where = check_after_kill(store, data, incoming, staging)
        outcomes[where] = outcomes.get(where, 0) + 1
        if proc.returncode == 0:
            assert out.startswith("won "), (out, err)
            assert where == "store"
            break
        assert proc.returncode == -signal.SIGKILL, err
        assert where != "store" or step > 1
    print("kill steps:", step, outcomes)
    # every stage was hit: before the move, after it (content in staging), after the rename
    assert outcomes.get("incoming", 0) > 0
    assert outcomes.get("staging", 0) > 0
    assert outcomes.get("store", 0) > 1
    ok, num, good, errs = ocfl_py_root(store.root)
    assert ok and num == good == outcomes["store"] + outcomes["staging"], errs


@pytest.mark.parametrize("durable", [True, False])
def test_kill_at_random_moments(store: OcflStore, tmp_path: Path, durable: bool) -> None:
    rng = random.Random(20240501 + durable)
    # How long does one add take here? Time a few complete runs (start to exit).
    spans = []
    for n in range(3):
        staging = tmp_path / f"warm-{n}"
        staging.mkdir()
        incoming = staging / "incoming"
        incoming.write_bytes(os.urandom(1 << 20))
        proc = launch(
            {
                "root": str(store.root),
                "staging": str(staging),
                "incoming": str(incoming),
                "durable": durable,
            }
        )
        t0 = time.perf_counter()
        out, _ = proc.communicate("go\n", timeout=60)
        spans.append(time.perf_counter() - t0)
        assert out.startswith("won ")
    span = max(spans)
    outcomes: dict[str, int] = {}
    for trial in range(40):
        data = os.urandom(1 << 20)
        staging = tmp_path / f"staging-{trial}"
        staging.mkdir()
        incoming = staging / "incoming"
        incoming.write_bytes(data)
        proc = launch(
            {
                "root": str(store.root),
                "staging": str(staging),
                "incoming": str(incoming),
                "durable": durable,
            }
        )
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(rng.uniform(0, span))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        where = check_after_kill(store, data, incoming, staging)
        outcomes[where] = outcomes.get(where, 0) + 1
    assert sum(outcomes.values()) == 40
    print("random kills:", outcomes)
    ok, num, good, errs = ocfl_py_root(store.root)
    assert ok and num == good, errs
