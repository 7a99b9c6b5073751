"""Fixtures for the extraction tests: the generated sample set and a shared pool."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from conftest import load_make_samples
from svidok.intake.extract import Extraction, ExtractorPool

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def make_samples() -> ModuleType:
    return load_make_samples()


@pytest.fixture(scope="session")
def samples(make_samples: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("samples")
    make_samples.make_all(outdir)
    return outdir


@pytest.fixture(scope="module")
def pool() -> Iterator[ExtractorPool]:
    with ExtractorPool(workers=2, timeout=30.0) as shared:
        yield shared


def check_record(result: Extraction) -> dict[str, object]:
    """Assert the invariants every Extraction must keep; return its JSON form."""
    data = result.to_json()
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogates
    assert "\x00" not in text
    assert len(text) < 80 * 1024
    assert result.status in ("complete", "partial", "failed", "skipped")
    assert result.extractor.startswith("svidok-extract/1 (")
    if result.status in ("partial", "failed"):
        assert result.errors, "a partial or failed extraction must say why"
    for error in result.errors:
        assert error and len(error) <= 500

    def walk(value: object) -> None:
        if isinstance(value, float):
            assert math.isfinite(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert value is None or isinstance(value, str | int | bool)

    walk(data)
    return data
