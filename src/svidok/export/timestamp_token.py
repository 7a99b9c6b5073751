"""Check an RFC 3161 time-stamp response over a file, with the Python standard library and
the package `cryptography` only (it ships in every package beside verify_package.py).

``check(tsr, data, pem)``: the DER TimeStampResp grants a token (RFC 3161 §2.4.2) whose
TSTInfo's message imprint is SHA-256(``data``); the CMS SignedData (RFC 5652 §5) is signed
by its signer certificate over the signed attributes, whose content type is id-ct-TSTInfo
and whose message digest is that of the TSTInfo; the ESS signing-certificate attribute
names that certificate; the certificate may time-stamp (extendedKeyUsage timeStamping)
and chains, certificate by certificate, to one of the certificates in ``pem``, each valid
at the token's time. Returns the token's time (genTime) and serial number; raises
``ValueError`` with the reason otherwise. ``openssl ts -verify`` checks the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

_SIGNED_DATA = "1.2.840.113549.1.7.2"
_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_CONTENT_TYPE, _MESSAGE_DIGEST = "1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4"
_SIGNING_CERT, _SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.12", "1.2.840.113549.1.9.16.2.47"
_HASHES: dict[str, Any] = {
    "1.3.14.3.2.26": hashes.SHA1, "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384, "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
_SIG_HASH = {  # signature algorithm -> its hash (None: the SignerInfo's digest algorithm)
    "1.2.840.113549.1.1.1": None, "1.2.840.113549.1.1.11": hashes.SHA256,
    "1.2.840.113549.1.1.12": hashes.SHA384, "1.2.840.113549.1.1.13": hashes.SHA512,
    "1.2.840.10045.4.3.2": hashes.SHA256, "1.2.840.10045.4.3.3": hashes.SHA384,
    "1.2.840.10045.4.3.4": hashes.SHA512, "1.3.101.112": None,
}


class Der:
    """One DER element: tag byte, the element's whole bytes, and its content."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        end = len(data) if end is None else end
        if pos + 2 > end:
            raise ValueError("truncated DER")
        self.tag = data[pos]
        if self.tag & 0x1F == 0x1F:
            raise ValueError("multi-byte DER tags are not used here")
        length, head = data[pos + 1], 2
        if length & 0x80:
            count = length & 0x7F
            if not 0 < count <= 4 or pos + 2 + count > end:
                raise ValueError("bad DER length")
            length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
            head += count
        if pos + head + length > end:
            raise ValueError("truncated DER")
        self.raw = data[pos : pos + head + length]
        self.body = data[pos + head : pos + head + length]

    def children(self) -> list[Der]:
        out, pos = [], 0
        while pos < len(self.body):
            child = Der(self.body, pos)
            out.append(child)
            pos += len(child.raw)
        return out

    def oid(self) -> str:
        if self.tag != 0x06 or not self.body:
            raise ValueError("an object identifier was expected")
        first, parts, value = self.body[0], [], 0
        parts += [min(first // 40, 2), first - 40 * min(first // 40, 2)]
        for byte in self.body[1:]:
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                parts.append(value)
                value = 0
        return ".".join(map(str, parts))

    def integer(self) -> int:
        if self.tag != 0x02:
            raise ValueError("an integer was expected")
        return int.from_bytes(self.body, "big", signed=True)


def _seq(element: Der, tag: int = 0x30) -> list[Der]:
    if element.tag != tag:
        raise ValueError(f"DER tag {tag:#x} was expected, not {element.tag:#x}")
    return element.children()


def _attributes(signed_attrs: Der) -> dict[str, Der]:
    found: dict[str, Der] = {}
    for attr in signed_attrs.children():
        oid, values = _seq(attr)
        (value,) = _seq(values, 0x31)
        found[oid.oid()] = value
    return found


def check(tsr: bytes, data: bytes, pem: bytes) -> tuple[dt.datetime, int]:
    """The time and serial number of a valid token over ``data`` (ValueError if not)."""
    try:
        top = Der(tsr)
        if len(top.raw) != len(tsr):
            raise ValueError("bytes after the response")
        resp = _seq(top)
        if _seq(resp[0])[0].integer() not in (0, 1):
            raise ValueError("the response does not grant a time-stamp")
        if len(resp) < 2:
            raise ValueError("the response holds no token")
        content_type, wrapped = _seq(resp[1])
        if content_type.oid() != _SIGNED_DATA:
            raise ValueError("the token is not CMS SignedData")
        signed = _seq(_seq(wrapped, 0xA0)[0])
        econtent_type, econtent = _seq(signed[2])
        if econtent_type.oid() != _TST_INFO:
            raise ValueError("the token does not hold a TSTInfo")
        tst_der = _seq(econtent, 0xA0)[0]
        if tst_der.tag != 0x04:
            raise ValueError("the TSTInfo is not an octet string")
        tst = _seq(Der(tst_der.body))
        imprint_alg, imprint = _seq(tst[2])
        if _seq(imprint_alg)[0].oid() != "2.16.840.1.101.3.4.2.1":
            raise ValueError("the token is not over a SHA-256 digest")
        if imprint.body != hashlib.sha256(data).digest():
            raise ValueError("the token is over other data, not this checkpoint")
        when = dt.datetime.strptime(tst[4].body.decode("ascii")[:14], "%Y%m%d%H%M%S")
        when = when.replace(tzinfo=dt.UTC)
        serial = tst[3].integer()
        certs = [x509.load_der_x509_certificate(c.raw) for c in signed[3:-1]
                 for c in (c.children() if c.tag == 0xA0 else [])]
        signer_infos = _seq(signed[-1], 0x31)
        if len(signer_infos) != 1:
            raise ValueError("the token must have exactly one signer")
        _check_signer(_seq(signer_infos[0]), tst_der.body, certs, pem, when)
    except x509.ExtensionNotFound:
        raise ValueError("the signer's certificate is not for time-stamping") from None
    except (IndexError, UnicodeDecodeError, ValueError) as exc:
        text = str(exc)
        if text.startswith("the ") or text.startswith("certificate "):
            raise
        raise ValueError(f"not a well-formed time-stamp response ({text or 'bad DER'})") from None
    return when, serial


def _check_signer(
    info: list[Der], tst: bytes, certs: list[x509.Certificate], pem: bytes, when: dt.datetime
) -> None:
    trusted = x509.load_pem_x509_certificates(pem)
    sid, digest_alg, attrs_der, sig_alg, signature = info[1], info[2], info[3], info[4], info[5]
    if attrs_der.tag != 0xA0:
        raise ValueError("the token has no signed attributes")
    issuer, serial = _seq(sid)
    signer = next((c for c in certs + trusted if c.serial_number == serial.integer()
                   and c.issuer.public_bytes() == issuer.raw), None)
    if signer is None:
        raise ValueError("the signer's certificate is neither in the token nor given")
    hash_cls = _HASHES.get(_seq(digest_alg)[0].oid())
    if hash_cls is None:
        raise ValueError("the token uses an unknown digest algorithm")
    attrs = _attributes(attrs_der)
    if _CONTENT_TYPE not in attrs or attrs[_CONTENT_TYPE].oid() != _TST_INFO:
        raise ValueError("the signed content type is not TSTInfo")
    digest = hashes.Hash(hash_cls())
    digest.update(tst)
    if _MESSAGE_DIGEST not in attrs or attrs[_MESSAGE_DIGEST].body != digest.finalize():
        raise ValueError("the signed message digest is not that of the TSTInfo")
    _check_ess(attrs, signer)
    oid = _seq(sig_alg)[0].oid()
    if oid not in _SIG_HASH:
        raise ValueError(f"the signature algorithm {oid} is not supported by this script")
    signed_bytes = b"\x31" + attrs_der.raw[1:]  # signed over as a SET OF (RFC 5652 §5.4)
    algorithm = (_SIG_HASH[oid] or hash_cls)()
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature.body, signed_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature.body, signed_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature.body, signed_bytes)
        else:
            raise ValueError("the signer's key type is not supported by this script")
    except InvalidSignature:
        raise ValueError("the token's signature does not verify") from None
    eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    if not eku.critical or ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
        raise ValueError("the signer's certificate is not for time-stamping")
    _chain(signer, certs, trusted, when)


def _check_ess(attrs: dict[str, Der], signer: x509.Certificate) -> None:
    if _SIGNING_CERT_V2 in attrs:
        first = _seq(_seq(attrs[_SIGNING_CERT_V2])[0])[0]
        parts = _seq(first)
        alg = hashes.SHA256 if parts[0].tag == 0x04 else _HASHES.get(_seq(parts[0])[0].oid())
        cert_hash = parts[0] if parts[0].tag == 0x04 else parts[1]
    elif _SIGNING_CERT in attrs:
        alg, cert_hash = hashes.SHA1, _seq(_seq(_seq(attrs[_SIGNING_CERT])[0])[0])[0]
    else:
        raise ValueError("the token does not name its signing certificate (ESS)")
    if alg is None or signer.fingerprint(alg()) != cert_hash.body:
        raise ValueError("the token names another signing certificate than its signer")


def _chain(cert: x509.Certificate, certs: list[x509.Certificate],
           trusted: list[x509.Certificate], when: dt.datetime) -> None:
    pool = certs + trusted
    for _ in range(8):
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            raise ValueError(f"certificate {cert.subject.rfc4514_string()} was not valid then")
        if cert in trusted:
            return
        issuer = next((c for c in pool if c.subject == cert.issuer and c != cert), None)
        if issuer is None:
            raise ValueError("the TSA's certificate does not chain to the given certificates")
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise ValueError("a certificate of the chain is not signed by its issuer") from None
        cert = issuer
    raise ValueError("the certificate chain is too long")


def check_package(files: dict[str, bytes], checkpoint: bytes) -> tuple[list[str], list[str],
                                                                       list[dict[str, str]]]:
    """The tokens of a package's checkpoint (``files``: name -> bytes of each file in
    data/checkpoint/timestamps/): problems, notes, and each valid token's TSA and time."""
    problems: list[str] = []
    notes: list[str] = []
    stamps: list[dict[str, str]] = []
    where = "data/checkpoint/timestamps/"
    for name in sorted(files):
        stem, _, ext = name.rpartition(".")
        if ext == "pem" and f"{stem}.tsr" in files:
            continue
        if ext != "tsr":
            problems.append(f"{where}{name}: neither a token (.tsr) nor its TSA's certificates")
            continue
        if f"{stem}.pem" not in files:
            problems.append(f"{where}{name}: its TSA's certificates ({stem}.pem) are missing")
            continue
        try:
            when, _serial = check(files[name], checkpoint, files[f"{stem}.pem"])
        except ValueError as exc:
            problems.append(f"{where}{name}: {exc}")
            continue
        stamps.append({"tsa": stem, "time": when.isoformat().replace("+00:00", "Z")})
        notes.append(f"the checkpoint is time-stamped by {stem} at {stamps[-1]['time']} "
                     f"(RFC 3161), with the TSA certificates of {where}{stem}.pem: compare them "
                     "with those the TSA publishes")
    if not files:
        notes.append("the checkpoint carries no RFC 3161 timestamp: nothing here proves when "
                     "it was signed (a checkpoint the archive published may)")
    return problems, notes, stamps
