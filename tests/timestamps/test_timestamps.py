"""Trusted time: RFC 3161 tokens over checkpoints from a real TSA (OpenSSL), requested after
every command, kept pending offline, checked by `svidok verify`; bad tokens are refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from svidok.errors import ConfigError
from svidok.home import Home
from svidok.verify import verify as run_verify

from .tsa import Pki, TsaServer, configure

CLI = [sys.executable, "-m", "svidok"]


def _svidok(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*CLI, "--home", str(home), *args], capture_output=True, text=True,
                          env=env, timeout=120)


def _tokens(home: Path) -> list[str]:
    folder = home / "ledger" / "timestamps"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _sizes(home: Path) -> list[int]:
    return sorted(int(p.name[:20]) for p in (home / "ledger" / "checkpoints").glob("*.note"))


def _ingest(home: Path, tmp: Path, name: str) -> subprocess.CompletedProcess[str]:
    f = tmp / name
    f.write_text(f"statement {name}\n")
    return _svidok(home, "ingest", str(f), "--case", "c1", "--collector", "Olena")


def _findings(home: Path, area: str = "timestamp") -> tuple[list[str], list[str]]:
    with Home.open(home) as h:
        report = run_verify(h, quick=True)
    return ([f.message for f in report.problems if f.area == area],
            [f.message for f in report.findings if f.area == area and f.severity == "note"])


# --------------------------------------------------------------------- the good path
def test_every_command_that_signs_gets_a_token(stamped_home: Path, tmp_path: Path) -> None:
    run = _ingest(stamped_home, tmp_path, "a.txt")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    latest = _sizes(stamped_home)[-1]
    assert f"{latest:020d}.local.tsr" in _tokens(stamped_home)
    run = _svidok(stamped_home, "verify", "--quick")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"the latest checkpoint ({latest}) is time-stamped by local at" in run.stdout
    # the verification entry's own checkpoint was time-stamped when verify signed it
    assert f"{_sizes(stamped_home)[-1]:020d}.local.tsr" in _tokens(stamped_home)


def test_the_token_is_over_the_exact_checkpoint_note(stamped_home: Path, tmp_path: Path) -> None:
    with Home.open(stamped_home) as h:
        h.timestamp_pending()
    size = _sizes(stamped_home)[-1]
    note = stamped_home / "ledger" / "checkpoints" / f"{size:020d}.note"
    token = stamped_home / "ledger" / "timestamps" / f"{size:020d}.local.tsr"
    ca = stamped_home / "tsa" / "local-ca.pem"
    run = subprocess.run(["openssl", "ts", "-verify", "-in", str(token), "-data", str(note),
                          "-CAfile", str(ca)], capture_output=True, text=True)
    assert run.returncode == 0 and "Verification: OK" in run.stdout, run.stdout + run.stderr
    other = tmp_path / "other"
    other.write_bytes(note.read_bytes() + b"x")
    run = subprocess.run(["openssl", "ts", "-verify", "-in", str(token), "-data", str(other),
                          "-CAfile", str(ca)], capture_output=True, text=True)
    assert run.returncode != 0


def test_no_tsa_configured_nothing_is_requested(home_path: Path, tsa: TsaServer) -> None:
    with Home.open(home_path) as h:
        with h.writing():
            pass
        report = run_verify(h, quick=True)
    assert tsa.requests == 0 and _tokens(home_path) == []
    assert not [f for f in report.findings if f.area == "timestamp"]


def test_nested_writing_asks_once_after_the_outermost(
    stamped_home: Path, tsa: TsaServer
) -> None:
    with Home.open(stamped_home) as h:
        with h.writing():
            with h.writing():
                pass
            assert tsa.requests == 0  # never while the ledger lock is held
        assert tsa.requests == 1


# ------------------------------------------------------------------------- offline
def test_offline_leaves_pending_and_svidok_timestamp_fills_later(
    stamped_home: Path, tsa: TsaServer, tmp_path: Path
) -> None:
    tsa.mode = "down"
    run = _ingest(stamped_home, tmp_path, "b.txt")
    assert run.returncode == 0, run.stderr  # the evidence is preserved all the same
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "left without a timestamp from 'local'" in lines[0], run.stderr
    assert "HTTP 503" in lines[0]
    latest = _sizes(stamped_home)[-1]
    problems, notes = _findings(stamped_home)
    assert problems == []
    assert any(f"the latest checkpoint ({latest}) has no timestamp yet" in n for n in notes)
    assert any("checkpoints lack a timestamp from TSA 'local'" in n and str(latest) in n
               for n in notes), notes
    run = _svidok(stamped_home, "timestamp")
    assert run.returncode == 1 and "still pending" in run.stdout, run.stdout + run.stderr
    tsa.mode = "ok"
    run = _svidok(stamped_home, "timestamp", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"pending": 0' in run.stdout
    assert _tokens(stamped_home) == [f"{s:020d}.local.tsr" for s in _sizes(stamped_home)]
    problems, notes = _findings(stamped_home)
    assert problems == [] and not any("lack" in n for n in notes), notes


def test_a_tsa_that_never_answers_times_out(stamped_home: Path, tsa: TsaServer) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        configure(stamped_home, [("mute", f"http://127.0.0.1:{silent.getsockname()[1]}/",
                                  Path("tsa/local-ca.pem"))], timeout=0.5)
        with Home.open(stamped_home) as h:
            said: list[str] = []
            h.notify = said.append
            start = time.monotonic()
            with h.writing():
                pass
            assert time.monotonic() - start < 5
            assert len(said) == 1 and "timed out" in said[0], said
            with h.writing():  # the TSA rests: not asked again at once
                pass
            assert len(said) == 1
    finally:
        silent.close()


# ------------------------------------------------------------- bad answers refused
@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("other-nonce", "another nonce"),
        ("other-data", "over other data"),
        ("untrusted", "not signed by TSA 'local'"),
        ("garbage", "not a valid time-stamp response"),
        ("huge", "more than 256 KiB"),
    ],
)
def test_a_bad_answer_is_refused_and_nothing_stored(
    stamped_home: Path, tsa: TsaServer, mode: str, said: str
) -> None:
    tsa.mode = mode
    with Home.open(stamped_home) as h:
        heard: list[str] = []
        h.notify = heard.append
        outcomes = h.timestamp_pending()
    assert [o.status for o in outcomes] == ["failed"]
    assert said in outcomes[0].message and len(heard) == 1
    assert "\n" not in heard[0] and "Traceback" not in heard[0]
    assert _tokens(stamped_home) == []


# ------------------------------------------------------------- bad tokens rejected
def _two_tokens(home: Path) -> list[Path]:
    with Home.open(home) as h:
        with h.writing():
            h.commit([])  # nothing new: no new checkpoint
        h.timestamp_pending()
    return sorted((home / "ledger" / "timestamps").iterdir())


def test_a_token_for_another_checkpoint_is_a_problem(stamped_home: Path, tmp_path: Path) -> None:
    _ingest(stamped_home, tmp_path, "c.txt")
    first, *_, last = sorted((stamped_home / "ledger" / "timestamps").iterdir())
    first.write_bytes(last.read_bytes())  # a real token, of the latest checkpoint
    problems, _ = _findings(stamped_home)
    assert problems == [f"token {first.name} is over other data, not this checkpoint"]
    run = _svidok(stamped_home, "verify", "--quick", "--no-record")
    assert run.returncode == 1 and "over other data" in run.stderr


def test_a_corrupted_token_is_a_problem(stamped_home: Path) -> None:
    (token,) = _two_tokens(stamped_home)
    der = bytearray(token.read_bytes())
    der[-5] ^= 0x01  # inside the signature
    token.write_bytes(bytes(der))
    problems, _ = _findings(stamped_home)
    assert len(problems) == 1 and "is not signed by TSA 'local'" in problems[0], problems
    token.write_bytes(b"\x30\x82garbage")
    problems, _ = _findings(stamped_home)
    assert len(problems) == 1 and "not a valid time-stamp response" in problems[0], problems


def test_a_token_of_an_untrusted_tsa_is_a_problem(stamped_home: Path, pkis: dict[str, Pki]) -> None:
    (token,) = _two_tokens(stamped_home)
    note = (stamped_home / "ledger" / "checkpoints" / token.name[:20]).with_suffix(".note")
    token.write_bytes(pkis["rogue"].stamp(note.read_bytes()))  # right imprint, wrong TSA
    problems, _ = _findings(stamped_home)
    assert len(problems) == 1 and "not signed by TSA 'local'" in problems[0], problems
    assert "unable to get local issuer certificate" in problems[0]


def test_tokens_of_a_tsa_no_longer_configured(stamped_home: Path, tsa: TsaServer) -> None:
    (token,) = _two_tokens(stamped_home)
    token.rename(token.with_name(token.name.replace(".local.", ".retired.")))
    problems, notes = _findings(stamped_home)
    assert problems == []
    assert any("from TSA 'retired', which is not configured" in n for n in notes), notes


def test_unreadable_certificates_are_one_line(stamped_home: Path) -> None:
    (stamped_home / "tsa" / "local-ca.pem").write_text("not a certificate")
    with Home.open(stamped_home) as h:
        outcomes = h.timestamp_pending()
    assert outcomes[0].status == "failed" and "cannot read its certificates" in outcomes[0].message
    run = _svidok(stamped_home, "timestamp")
    assert run.returncode == 1 and "cannot read its certificates" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


# ------------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('name = "a"\nurl = "http://127.0.0.1/"\ncertificates = "x"\nextra = 1', "unknown setting"),
        ('name = "A B"\nurl = "http://127.0.0.1/"\ncertificates = "x"', "lowercase"),
        ('name = "a"\nurl = "ftp://x/"\ncertificates = "x"', "http(s)"),
        ('name = "a"\nurl = "http://127.0.0.1/"', "needs certificates"),
    ],
)
def test_bad_settings_are_refused(home_path: Path, table: str, said: str) -> None:
    toml = home_path / "svidok.toml"
    toml.write_text(toml.read_text().split("\n[timestamping]")[0]
                    + f"\n[timestamping]\n\n[[timestamping.tsa]]\n{table}\n")
    with pytest.raises(ConfigError, match=said.replace("(", r"\(").replace(")", r"\)")):
        Home.open(home_path)
    run = _svidok(home_path, "timestamp")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr


@pytest.mark.parametrize("value", ["true", '"10"', "0", "nan", "[1]"])
def test_bad_timeouts_are_refused(home_path: Path, value: str) -> None:
    toml = home_path / "svidok.toml"
    toml.write_text(toml.read_text().replace("timeout = 10.0", f"timeout = {value}", 1))
    with pytest.raises(ConfigError, match=r"timestamping\.timeout"):
        Home.open(home_path)


def test_concurrent_writers_store_each_token_once(stamped_home: Path) -> None:
    with Home.open(stamped_home) as h:
        threads = [threading.Thread(target=h.timestamp_pending) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert _tokens(stamped_home) == [f"{_sizes(stamped_home)[-1]:020d}.local.tsr"]
