"""Packages carry their checkpoint's RFC 3161 timestamps (from a real local TSA) with the
TSA's certificates; the shipped script and `openssl ts -verify`, exactly as the README
gives it, check them; a swapped, corrupted or foreign token is caught."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest

from conftest import write_samples
from svidok.cases.access import Actor
from svidok.cases.service import open_casework
from svidok.demo import run_demo
from svidok.export import timestamp_token as tt
from svidok.export import verify_package as vp
from svidok.export.package import Selection, export_case
from svidok.home import Home
from timestamps.tsa import Pki, configure, serving

from .test_package import _vkey

OPERATOR = Actor.operator("tester")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("stamped-export")
    write_samples(base / "samples")
    pkis = {"a": Pki(base / "pki-a", "Alpha"), "b": Pki(base / "pki-b", "Beta", "ec"),
            "rogue": Pki(base / "pki-rogue", "Rogue")}
    home_path = base / "home"
    Home.init(home_path, origin="svidok.test/stamped", actor="tester")
    with serving(pkis["a"]) as a, serving(pkis["b"]) as b:
        configure(home_path, [("alpha", a.url, pkis["a"].ca_pem),
                              ("beta", b.url, pkis["b"].ca_pem)])
        with Home.open(home_path) as home:
            run_demo(home, OPERATOR, base / "samples")
            work = open_casework(home)
            export_case(home, work, OPERATOR, "demo", Selection(), base / "bag",
                        recipient="ICC Office of the Prosecutor", purpose="Article 15")
            b.mode = "down"
            export_case(home, work, OPERATOR, "demo", Selection(), base / "bag-alpha-only",
                        recipient="ICC Office of the Prosecutor", purpose="Article 15")
        yield {"home": home_path, "bag": base / "bag", "base": base,
               "alpha-only": base / "bag-alpha-only", **{k: p.ca_pem for k, p in pkis.items()}}


@pytest.fixture()
def bag(site: dict[str, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(site["bag"], tmp_path / "bag"))


def test_the_package_carries_and_proves_its_timestamps(site: dict[str, Path]) -> None:
    stamps = site["bag"] / "data" / "checkpoint" / "timestamps"
    assert sorted(p.name for p in stamps.iterdir()) == [
        "alpha.pem", "alpha.tsr", "beta.pem", "beta.tsr"]
    bagit.Bag(str(site["bag"])).validate()
    report = vp.verify(site["bag"], _vkey(site))
    assert report.ok, report.problems
    assert [s["tsa"] for s in report.facts["timestamps"]] == ["alpha", "beta"]
    assert any("time-stamped by alpha at" in n for n in report.notes)
    only = vp.verify(site["alpha-only"], _vkey(site))  # beta was offline for this one
    assert only.ok and [s["tsa"] for s in only.facts["timestamps"]] == ["alpha"]


def test_openssl_checks_the_tokens_exactly_as_the_readme_says(site: dict[str, Path]) -> None:
    readme = (site["bag"] / "data" / "README.txt").read_text()
    commands = re.findall(r"^ +(openssl ts -verify .*?\\\n +.*?)$", readme, re.M)
    assert len(commands) == 2, readme
    for command in commands:
        argv = command.replace("\\\n", " ").split()
        run = subprocess.run(argv, cwd=site["bag"], capture_output=True, text=True)
        assert run.returncode == 0 and "Verification: OK" in run.stdout, run.stdout + run.stderr


def test_the_shipped_script_checks_tokens_alone(site: dict[str, Path], tmp_path: Path) -> None:
    data = site["bag"] / "data"
    text = (data / "timestamp_token.py").read_text()
    assert "svidok" not in text and "rfc3161" not in text
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("verify_package.py", "package_format.py", "timestamp_token.py"):
        shutil.copy(data / name, alone / name)
    run = subprocess.run([sys.executable, "-I", str(alone / "verify_package.py"),
                          str(site["bag"]), "--key", _vkey(site)],
                         capture_output=True, text=True, cwd=alone)
    assert run.returncode == 0 and "time-stamped by beta at" in run.stdout, run.stdout


def _problems(bag: Path, site: dict[str, Path]) -> list[str]:
    b = bagit.Bag(str(bag))
    b.save(manifests=True)  # a careful forger makes the manifests fit again
    return vp.verify(bag, _vkey(site)).problems


def test_a_swapped_token_is_caught(bag: Path, site: dict[str, Path]) -> None:
    stamps = bag / "data" / "checkpoint" / "timestamps"
    older = sorted((site["home"] / "ledger" / "timestamps").glob("*.alpha.tsr"))[0]
    shutil.copy(older, stamps / "alpha.tsr")  # a real token, of an earlier checkpoint
    assert _problems(bag, site) == [
        "data/checkpoint/timestamps/alpha.tsr: the token is over other data, not this checkpoint"]


def test_a_corrupted_token_is_caught(bag: Path, site: dict[str, Path]) -> None:
    token = bag / "data" / "checkpoint" / "timestamps" / "beta.tsr"
    der = bytearray(token.read_bytes())
    der[-10] ^= 0x40  # inside the ECDSA signature
    token.write_bytes(bytes(der))
    (problem,) = _problems(bag, site)
    assert problem.startswith("data/checkpoint/timestamps/beta.tsr: ")


def test_another_tsa_and_its_own_certificates_are_caught(bag: Path, site: dict[str, Path]) -> None:
    stamps = bag / "data" / "checkpoint" / "timestamps"
    shutil.copy(site["rogue"], stamps / "alpha.pem")  # alpha's token, a stranger's CA
    assert _problems(bag, site) == ["data/checkpoint/timestamps/alpha.tsr: the TSA's "
                                    "certificate does not chain to the given certificates"]
    (stamps / "alpha.pem").unlink()
    assert _problems(bag, site) == ["data/checkpoint/timestamps/alpha.tsr: its TSA's "
                                    "certificates (alpha.pem) are missing"]


def test_token_checks_refuse_bad_input_in_one_line(site: dict[str, Path]) -> None:
    token = (site["bag"] / "data" / "checkpoint" / "timestamps" / "alpha.tsr").read_bytes()
    note = (site["bag"] / "data" / "checkpoint" / "checkpoint.txt").read_bytes()
    pem = site["a"].read_bytes()
    assert tt.check(token, note, pem)[0].year >= 2025
    for bad in (b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", token[:100], token + b"\x00",
                b"\x30\x03\x02\x01\x02", bytes(range(256))):
        with pytest.raises(ValueError) as caught:
            tt.check(bad, note, pem)
        assert "\n" not in str(caught.value)
