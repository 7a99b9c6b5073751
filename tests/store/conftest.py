"""Fixtures for the OCFL store tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

try:
    import svidok  # noqa: F401
except ImportError:  # the package is not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from svidok.store import OcflStore

from .helpers import put


@pytest.fixture
def store(tmp_path: Path) -> OcflStore:
    return OcflStore.init(tmp_path / "store")


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    path = tmp_path / "staging"
    path.mkdir()
    return path


@pytest.fixture
def add(store: OcflStore, staging: Path) -> Callable[..., tuple[str, Path]]:
    """add(data, name="original.bin", **kwargs) -> (object id, object path)."""

    def _add(data: bytes, name: str = "original.bin", **kwargs: object) -> tuple[str, Path]:
        return put(store, staging, data, name, **kwargs)

    return _add
