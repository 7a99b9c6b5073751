"""One HTTP(S) exchange made from Python, with limits, for the browser and the WARC.

The browser never reaches the network itself: every request it makes is handed to
:class:`Fetcher`, which checks the URL (http/https only, optionally no private addresses),
performs it with urllib3 (no redirects followed: the browser follows them, each hop is a
request of its own), reads the body within the time and size limits, and keeps the real
status line, headers and, for HTTPS, the server's leaf certificate from the connection.
"""

from __future__ import annotations

import _ssl
import hashlib
import ipaddress
import socket
import ssl
import time
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from svidok.errors import CaptureError
from svidok.ledger.entries import JSONValue

MAX_URL = 8192
_CHUNK = 1 << 16
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "upgrade", "te", "trailer"}


@dataclass(frozen=True)
class Limits:
    """What one capture may use; exceeding any of them ends or trims the capture."""

    timeout: float = 60.0  # seconds for the whole capture
    max_bytes: int = 200 << 20  # all response bodies together
    max_response: int = 100 << 20  # one response body
    max_requests: int = 500
    max_redirects: int = 10
    block_private: bool = False  # refuse loopback, private, link-local and reserved addresses
    allow_untrusted: bool = False  # capture HTTPS sites whose certificate does not verify

    def __post_init__(self) -> None:
        if not 0 < self.timeout <= 3600:
            raise CaptureError("the capture timeout must be between 0 and 3600 seconds")
        if self.max_bytes < 1 or self.max_response < 1:
            raise CaptureError("the capture byte limits must be positive")
        if self.max_requests < 1 or self.max_redirects < 0:
            raise CaptureError("the request and redirect limits must be positive")


@dataclass(frozen=True)
class Certificate:
    """The server's leaf certificate as received on the connection."""

    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    sha256: str
    trusted: bool
    error: str | None
    tls_version: str | None
    cipher: str | None
    chain: tuple[dict[str, str], ...] = ()  # as the server sent it (or as verified), leaf first

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "chain": [dict(c) for c in self.chain],
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "sha256": self.sha256,
            "trusted": self.trusted,
            "error": self.error,
            "tls_version": self.tls_version,
            "cipher": self.cipher,
        }


@dataclass
class Exchange:
    """One request and its response, as sent and received."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    peer: str | None = None
    certificate: Certificate | None = None
    started: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def media_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()


def check_url(url: str) -> str:
    """The URL if it may be captured (absolute http or https, sane length); else CaptureError."""
    if len(url) > MAX_URL:
        raise CaptureError(f"the URL is longer than {MAX_URL} characters")
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise CaptureError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise CaptureError(f"the URL cannot be parsed: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        scheme = parts.scheme or "this"
        raise CaptureError(f"only http and https URLs can be captured, not {scheme}:")
    if not parts.hostname:
        raise CaptureError("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise CaptureError(
            "the URL holds a user name or password, which would be recorded in clear: "
            "remove them (pages behind a login cannot be captured)"
        )
    return url


def _refuse_private(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise CaptureError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        _refuse_address(str(info[4][0]), host)


def _refuse_address(address: str, host: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        raise CaptureError(f"{host} resolves to a private or reserved address ({ip}): refused")


def _described(der: bytes) -> dict[str, str]:
    cert = x509.load_der_x509_certificate(der)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def _chain(sock: ssl.SSLSocket, trusted: bool) -> list[bytes]:
    """The chain, leaf first: the verified one when trusted, else the one the server sent.
    Python 3.11 has it only through the private ``_sslobj`` (public from 3.13); without it,
    nothing (the leaf is still recorded)."""
    obj = getattr(sock, "_sslobj", None)
    getter = getattr(obj, "get_verified_chain" if trusted else "get_unverified_chain", None)
    if getter is None:
        return []
    try:
        return [c.public_bytes(_ssl.ENCODING_DER) for c in getter() or []]
    except (ssl.SSLError, ValueError, AttributeError):
        return []


def _certificate(der: bytes, trusted: bool, error: str | None, sock: ssl.SSLSocket) -> Certificate:
    leaf = _described(der)
    cipher = sock.cipher()
    return Certificate(
        subject=leaf["subject"],
        issuer=leaf["issuer"],
        serial=leaf["serial"],
        not_before=leaf["not_before"],
        not_after=leaf["not_after"],
        sha256=leaf["sha256"],
        trusted=trusted,
        error=error,
        tls_version=sock.version(),
        cipher=cipher[0] if cipher else None,
        chain=tuple(_described(c) for c in _chain(sock, trusted)),
    )


class Fetcher:
    """Performs requests within one capture's limits; counts requests and bytes."""

    def __init__(self, limits: Limits, user_agent: str, deadline: float) -> None:
        self.limits = limits
        self.user_agent = user_agent
        self.deadline = deadline
        self.requests = 0
        self.bytes = 0
        self._trusted = urllib3.PoolManager(num_pools=20, retries=False)
        self._untrusted = urllib3.PoolManager(
            num_pools=20, retries=False, cert_reqs="CERT_NONE", assert_hostname=False
        )
        self._untrusted_hosts: dict[str, str] = {}  # host -> why its certificate failed

    def close(self) -> None:
        self._trusted.clear()
        self._untrusted.clear()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def fetch(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> Exchange:
        """Perform one request; CaptureError when a limit or a check refuses it."""
        check_url(url)
        if self.requests >= self.limits.max_requests:
            raise CaptureError(f"more than {self.limits.max_requests} requests")
        self.requests += 1
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.limits.block_private:
            _refuse_private(host, port)
        sent = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP | {"accept-encoding"}]
        if not any(k.lower() == "user-agent" for k, _ in sent):
            sent.append(("User-Agent", self.user_agent))
        sent.append(("Accept-Encoding", "identity"))
        untrusted_why = self._untrusted_hosts.get(f"{host}:{port}")
        pool = self._trusted if untrusted_why is None else self._untrusted
        try:
            resp = self._open(pool, method, url, sent, body)
        except urllib3.exceptions.SSLError as exc:
            if not _is_verify_error(exc):
                raise CaptureError(f"TLS failed for {host}: {exc}") from exc
            why = _verify_reason(exc)
            if not self.limits.allow_untrusted:
                raise CaptureError(
                    f"the certificate of {host} is not trusted ({why}); "
                    "capture anyway with --allow-untrusted"
                ) from exc
            self._untrusted_hosts[f"{host}:{port}"] = why
            untrusted_why = why
            resp = self._open(self._untrusted, method, url, sent, body)
        try:
            return self._read(resp, method, url, sent, body or b"", untrusted_why)
        finally:
            resp.release_conn()

    def _open(
        self,
        pool: urllib3.PoolManager,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
    ) -> urllib3.BaseHTTPResponse:
        left = self.left()
        if left <= 0:
            raise CaptureError("the capture took longer than its timeout")
        try:
            with warnings.catch_warnings():  # unverified on purpose: recorded as untrusted
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                return pool.request(
                    method,
                    url,
                    headers=urllib3.HTTPHeaderDict(headers),
                    body=body or None,
                    redirect=False,
                    preload_content=False,
                    decode_content=False,
                    timeout=urllib3.Timeout(connect=min(left, 30.0), read=min(left, 30.0)),
                )
        except urllib3.exceptions.SSLError:
            raise
        except urllib3.exceptions.TimeoutError as exc:
            raise CaptureError(f"timed out fetching {_short(url)}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise CaptureError(f"cannot fetch {_short(url)}: {_root_cause(exc)}") from exc

    def _read(
        self,
        resp: urllib3.BaseHTTPResponse,
        method: str,
        url: str,
        sent: list[tuple[str, str]],
        body: bytes,
        untrusted_why: str | None,
    ) -> Exchange:
        sock = _socket(resp)
        peer = None
        cert = None
        if sock is not None:
            try:
                peer = str(sock.getpeername()[0])
            except OSError:
                peer = None
            if peer is not None and self.limits.block_private:
                _refuse_address(peer, urlsplit(url).hostname or "")
            if isinstance(sock, ssl.SSLSocket):
                der = sock.getpeercert(binary_form=True)
                if der:
                    cert = _certificate(der, untrusted_why is None, untrusted_why, sock)
        declared = resp.headers.get("content-length")
        limit = self.limits.max_response
        if declared and declared.isdigit() and int(declared) > limit:
            raise CaptureError(f"{_short(url)} is larger than the limit of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.stream(_CHUNK, decode_content=False):
                size += len(chunk)
                self.bytes += len(chunk)
                if size > limit:
                    raise CaptureError(f"{_short(url)} is larger than the limit of {limit} bytes")
                if self.bytes > self.limits.max_bytes:
                    raise CaptureError(
                        f"the capture exceeded its limit of {self.limits.max_bytes} bytes"
                    )
                if self.left() <= 0:
                    raise CaptureError("the capture took longer than its timeout")
                chunks.append(chunk)
        except urllib3.exceptions.TimeoutError as exc:
            raise CaptureError(f"timed out reading {_short(url)}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise CaptureError(f"cannot read {_short(url)}: {_root_cause(exc)}") from exc
        version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(resp.version, "HTTP/1.1")
        return Exchange(
            method=method,
            url=url,
            request_headers=sent,
            request_body=body,
            status=resp.status,
            reason=resp.reason or "",
            http_version=version,
            headers=list(resp.headers.items()),
            body=b"".join(chunks),
            peer=peer,
            certificate=cert,
        )


def _socket(resp: urllib3.BaseHTTPResponse) -> socket.socket | None:
    conn = getattr(resp, "connection", None)
    sock = getattr(conn, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _is_verify_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _verify_reason(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "verification failed")
        seen = seen.__cause__ or seen.__context__
    return "certificate verification failed"


def _root_cause(exc: BaseException) -> str:
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        nxt = seen.__cause__ or seen.__context__
        assert nxt is not None
        seen = nxt
    return str(getattr(exc, "reason", None) or seen)[:300]


def _short(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "…"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
