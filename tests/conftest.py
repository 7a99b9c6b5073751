"""Shared fixtures: a fresh data home and helpers to build evidence trees."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from svidok.home import Home
from svidok.intake.ingest import IngestOptions, IngestReport, ingest

OPTIONS = IngestOptions(case="bucha-2022", collector="Olena Test", source="test suite")


@pytest.fixture()
def home_path(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    Home.init(path, origin="svidok.test/home", actor="tester")
    return path


@pytest.fixture()
def home(home_path: Path) -> Iterator[Home]:
    with Home.open(home_path) as h:
        yield h


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_ingest(home: Home, *paths: Path | bytes, options: IngestOptions = OPTIONS) -> IngestReport:
    return ingest(home, [os.fsencode(p) for p in paths], options)


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a skipped test is a failure: every tool a test needs must be installed."""
    if os.environ.get("CI") == "true" and _skipped:
        print(f"\nCI: skipped tests fail CI: {', '.join(_skipped)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
