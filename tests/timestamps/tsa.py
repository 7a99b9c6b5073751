"""A real time-stamping authority for the tests: OpenSSL's ``ts -reply`` behind a small
HTTP server on 127.0.0.1 (ephemeral port), with a CA and a TSA certificate made here with
``cryptography``. ``mode`` makes it misbehave the ways a defence expert would ask about."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CONF = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class Pki:
    """A root CA and a TSA certificate it issued (extendedKeyUsage timeStamping, critical)."""

    def __init__(self, folder: Path, label: str, kind: str = "rsa") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{label} test root CA"))
            .issuer_name(_name(f"{label} test root CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            rsa.generate_private_key(65537, 2048)
            if kind == "rsa"
            else ec.generate_private_key(ec.SECP384R1())
        )
        tsa = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{label} test TSA"))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_pem = folder / "ca.pem"
        self.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.tsa_cert = folder / "tsa.pem"
        self.tsa_cert.write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
        self.tsa_key = folder / "tsa.key"
        self.tsa_key.write_bytes(_pem_key(key))
        (folder / "serial").write_text("01\n")
        self.conf = folder / "openssl.cnf"
        self.conf.write_text(_CONF.format(dir=folder))

    def reply(self, query: bytes) -> bytes:
        """OpenSSL's answer to a DER TimeStampReq (a DER TimeStampResp)."""
        with tempfile.TemporaryDirectory() as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            run = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.conf), "-queryfile", str(q),
                 "-signer", str(self.tsa_cert), "-inkey", str(self.tsa_key), "-out", str(r)],
                capture_output=True, timeout=60,
            )
            if run.returncode != 0:
                raise RuntimeError(run.stderr.decode(errors="replace"))
            return r.read_bytes()

    def stamp(self, data: bytes, *, nonce: bool = True) -> bytes:
        """A response over SHA-256(data), for a query made by OpenSSL itself."""
        with tempfile.TemporaryDirectory() as tmp:
            d, q = Path(tmp) / "data", Path(tmp) / "q.tsq"
            d.write_bytes(data)
            args = ["openssl", "ts", "-query", "-data", str(d), "-sha256", "-cert", "-out", str(q)]
            subprocess.run([*args, *([] if nonce else ["-no_nonce"])], check=True, timeout=60)
            return self.reply(q.read_bytes())


class TsaServer:
    """``mode``: ok, down (HTTP 503), garbage, other-nonce (answers a query of its own for
    the same digest), other-data (a token over other bytes), huge, untrusted (signed by
    ``other``, a TSA of another CA)."""

    def __init__(self, pki: Pki, other: Pki | None = None) -> None:
        self.pki, self.other = pki, other
        self.mode = "ok"
        self.requests = 0
        server = self
        from rfc3161_client import _rust

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server.requests += 1
                length = min(int(self.headers.get("Content-Length", "0")), 1 << 16)
                query = self.rfile.read(length)
                mode = server.mode
                if mode == "down":
                    self.send_error(503)
                    return
                if mode == "garbage":
                    body = b"\x30\x03\x02\x01\x00 not a response"
                elif mode == "huge":
                    body = b"\x30" * (1 << 20)
                elif mode == "other-nonce":
                    digest = _rust.parse_timestamp_request(query).message_imprint.message
                    body = server.pki.reply(_query_for(digest))
                elif mode == "other-data":
                    body = server.pki.stamp(b"some other checkpoint")
                elif mode == "untrusted":
                    assert server.other is not None
                    body = server.other.reply(query)
                else:
                    body = server.pki.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tsr"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _query_for(digest: bytes) -> bytes:
    run = subprocess.run(
        ["openssl", "ts", "-query", "-digest", digest.hex(), "-sha256", "-cert"],
        capture_output=True, check=True, timeout=60,
    )
    return run.stdout


@contextmanager
def serving(pki: Pki, other: Pki | None = None) -> Iterator[TsaServer]:
    server = TsaServer(pki, other)
    server.thread.start()
    try:
        yield server
    finally:
        server.stop()


def configure(home: Path, tsas: list[tuple[str, str, Path]], timeout: float = 5.0) -> None:
    """Append a [timestamping] section naming these TSAs to the home's svidok.toml."""
    toml = home / "svidok.toml"
    text = toml.read_text()
    head, _, _rest = text.partition("\n[timestamping]")
    lines = [head.rstrip("\n"), "", "[timestamping]", f"timeout = {timeout}"]
    for name, url, pem in tsas:
        lines += ["", "[[timestamping.tsa]]", f'name = "{name}"', f'url = "{url}"',
                  f'certificates = "{pem}"']
    toml.write_text("\n".join(lines) + "\n")
