"""A real local TSA (OpenSSL behind HTTP on 127.0.0.1) and a data home configured for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from svidok.home import Home

from .tsa import Pki, TsaServer, configure, serving


@pytest.fixture(scope="session")
def pkis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pki]:
    base = tmp_path_factory.mktemp("pki")
    return {"trusted": Pki(base / "trusted", "Trusted"),
            "rogue": Pki(base / "rogue", "Rogue", "ec")}


@pytest.fixture()
def tsa(pkis: dict[str, Pki]) -> Iterator[TsaServer]:
    with serving(pkis["trusted"], pkis["rogue"]) as server:
        yield server


@pytest.fixture()
def stamped_home(tmp_path: Path, tsa: TsaServer, pkis: dict[str, Pki]) -> Path:
    """A home whose svidok.toml names the local TSA (certificates: its root CA)."""
    path = tmp_path / "home"
    Home.init(path, origin="svidok.test/time", actor="tester")
    (path / "tsa").mkdir()
    (path / "tsa" / "local-ca.pem").write_bytes(pkis["trusted"].ca_pem.read_bytes())
    configure(path, [("local", tsa.url, Path("tsa/local-ca.pem"))])
    return path
