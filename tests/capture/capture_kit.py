"""A local web server (HTTP and HTTPS with a self-signed certificate made here) and a data
home with a case, for web captures. Chromium is Debian's (``$SVIDOK_CHROMIUM`` or
``chromium`` on PATH); without it the tests fail, they never skip."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import os
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from svidok.cases.access import Actor
from svidok.cases.service import open_casework
from svidok.home import Home

OPERATOR = Actor.operator("tester")


def _png(seed: int, size: int = 64) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                 for _ in range(size * size)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


PNG = _png(1)
PNG_DIRECT = _png(2)
GIF_1PX = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c"
                        "00000000010001000002024401003b")
VIDEO = b"\x1aE\xdf\xa3" + random.Random(3).randbytes(6000)  # bytes served as video/webm
AUDIO = b"ID3" + random.Random(4).randbytes(5000)  # served as audio/mpeg
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PAGE = b"""<!doctype html><html><head><title>Bucha report</title>
<link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head>
<body><h1>Report from the street</h1><p id="p">Static paragraph.</p>
<img src="/photo.png"><img src="/pixel.gif"><img src="/hop-img">
<video src="/clip.webm" preload="auto" muted></video><audio src="/voice.mp3" preload="auto"></audio>
</body></html>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, ctype: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if "Content_Length" not in headers:  # a test may send a wrong one
            self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:
        p = self.path
        if p == "/":
            self._send(200, "text/html; charset=utf-8", PAGE, X_Test="page")
        elif p == "/style.css":
            self._send(200, "text/css", b"h1 { color: darkred }")
        elif p == "/app.js":
            self._send(200, "application/javascript",
                       b"addEventListener('DOMContentLoaded', () => {"
                       b"document.getElementById('p').textContent = 'Written by script.'});")
        elif p == "/photo.png":
            self._send(200, "image/png", PNG)
        elif p == "/hop-img":
            self._send(302, "text/plain", b"", Location="/photo.png")
        elif p == "/pixel.gif":
            self._send(200, "image/gif", GIF_1PX)
        elif p == "/clip.webm":
            self._send(200, "video/webm", VIDEO)
        elif p == "/voice.mp3":
            self._send(200, "audio/mpeg", AUDIO)
        elif p.startswith("/r") and p[2:].isdigit():
            n = int(p[2:])
            self._send(302 if n % 2 else 301, "text/plain", b"",
                       Location=f"/r{n + 1}" if n < 3 else "/")
        elif p == "/loop-a":
            self._send(302, "text/plain", b"", Location="/loop-b")
        elif p == "/loop-b":
            self._send(302, "text/plain", b"", Location="/loop-a")
        elif p == "/slow":
            time.sleep(8)
            self._send(200, "text/html", b"<p>late</p>")
        elif p == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()  # no length: the body is read until the limit stops it
            try:
                for _ in range(64):
                    self.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
            except OSError:
                pass
            self.close_connection = True
        elif p == "/big-picture":
            self._send(200, "text/html", b'<h1>Big</h1><img src="/big.png">')
        elif p == "/big.png":
            self._send(200, "image/png", b"\x89PNG" + bytes(2 << 20))
        elif p == "/doc.pdf":
            self._send(200, "application/pdf", PDF)
        elif p == "/pic.png":
            self._send(200, "image/png", PNG_DIRECT)
        else:
            self._send(404, "text/html", b"<html><body><h1>Not here</h1></body></html>")


@dataclass
class Site:
    http: str
    https: str  # a self-signed certificate
    cert_sha256: str
    https_ca: str  # a certificate issued by a test CA (trusted when ca_file is)
    ca_file: Path
    ca_sha256: str
    leaf_sha256: str


def _ca_signed(folder: Path) -> tuple[Path, Path, Path, str, str]:
    """A test CA and a certificate for localhost that it issued."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Svidok Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(1).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                     False), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(0xC0FFEE).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    ca_path.write_bytes(ca.public_bytes(pem))
    cert_path.write_bytes(leaf.public_bytes(pem))
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return (ca_path, cert_path, key_path, ca.fingerprint(hashes.SHA256()).hex(),
            leaf.fingerprint(hashes.SHA256()).hex())


def _self_signed(folder: Path) -> tuple[Path, Path, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svidok-test.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(0x5E1D0C).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, cert.fingerprint(hashes.SHA256()).hex()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    issued = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    folder = tmp_path_factory.mktemp("tls")
    cert, key, sha = _self_signed(folder)
    ca, leaf, leaf_key, ca_sha, leaf_sha = _ca_signed(folder)
    for srv, (c, k) in ((secure, (cert, key)), (issued, (leaf, leaf_key))):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(c, k)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    for srv in (plain, secure, issued):
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield Site(f"http://127.0.0.1:{plain.server_port}",
               f"https://localhost:{secure.server_port}", sha,
               f"https://localhost:{issued.server_port}", ca, ca_sha, leaf_sha)
    for srv in (plain, secure, issued):
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("SVIDOK_CHROMIUM") or shutil.which("chromium")
    assert path, "no Chromium: install Debian's chromium package (or set $SVIDOK_CHROMIUM)"
    return path


@pytest.fixture()
def case_home(home: Home) -> tuple[Home, str]:
    work = open_casework(home)
    case = work.create_case(OPERATOR, {"reference": "UA-CAP-1", "title": "Captures"})
    return home, case.id


def validate_wacz(path: Path) -> str:
    """py-wacz's own validator, as a receiving institution would run it."""
    run = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def warc_records(wacz: Path) -> list[tuple[str, str, int | None]]:
    """(type, target URI, HTTP status) of every record of the WACZ's WARC, read by warcio."""
    import zipfile

    with zipfile.ZipFile(wacz) as z:
        name = next(n for n in z.namelist() if n.startswith("archive/"))
        data = z.read(name)
    out = []
    for rec in ArchiveIterator(io.BytesIO(data)):
        status = None
        if rec.rec_type == "response" and rec.http_headers is not None:
            status = int(rec.http_headers.get_statuscode())
        rec.content_stream().read()
        out.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"), status))
    return out


def _descendants() -> set[int]:
    """Processes below this one (Playwright's driver, Chromium and its helpers)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    mine, grew = {os.getpid()}, True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return mine - {os.getpid()}


@pytest.fixture(autouse=True)
def nothing_left_behind(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each capture's working folders (Svidok's and Playwright's) go in a temporary
    directory of the test's own, which must be empty after it; no process below this one
    may remain."""
    tmp_path_factory.getbasetemp()  # made before the temporary directory changes
    tmp = Path(tempfile.mkdtemp(prefix="cap-", dir="/tmp"))  # short: Chromium's sockets go in
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    yield
    deadline = time.monotonic() + 5
    while _descendants() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in _descendants()
            if Path(f"/proc/{pid}/cmdline").exists()}
    assert not left, f"processes left running: {left}"
    left_over = sorted(p.name for p in tmp.iterdir())
    shutil.rmtree(tmp) if not left_over else None
    assert left_over == [], "working folders left behind"
