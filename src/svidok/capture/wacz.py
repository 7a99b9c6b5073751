"""WARC records of a capture (warcio) and their WACZ 1.1.1 package.

The WACZ is written here rather than by py-wacz, whose dependencies are heavy (frictionless,
tldextract, which fetches the public suffix list at run time); py-wacz's ``wacz validate``
checks the packages in the tests. Layout::

    archive/data.warc.gz          request/response record pairs, then metadata records
    indexes/index.cdx             CDXJ, one line per response, sorted
    pages/pages.jsonl             the captured page
    datapackage.json              every file above with its size and sha256
    datapackage-digest.json       the sha256 of datapackage.json

Members are stored uncompressed (ZIP "store"), as the specification asks for WARCs.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from svidok.capture.fetch import Exchange

WACZ_VERSION = "1.1.1"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _warc_date(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _cdx_ts(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y%m%d%H%M%S")


def surt(url: str) -> str:
    """The SURT form used as the CDXJ sort key (host reversed, lower case, no scheme/www)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    labels = [x for x in host.split(".") if x]
    if labels and labels[0] == "www":
        labels = labels[1:]
    key = ",".join(reversed(labels))
    if parts.port and parts.port not in (80, 443):
        key += f":{parts.port}"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return f"{key}){path.lower()}"


class WarcLog:
    """Writes exchanges as WARC records into one gzip-compressed WARC file and keeps a CDXJ
    line for each response."""

    def __init__(self, path: Path, software: str) -> None:
        self.path = path
        self._out = path.open("xb")
        self._writer = WARCWriter(self._out, gzip=True)
        self._cdx: list[str] = []
        info = self._writer.create_warcinfo_record(
            path.name, {"software": software, "format": "WARC File Format 1.1"}
        )
        self._writer.write_record(info)

    def add(self, ex: Exchange) -> None:
        date = _warc_date(ex.started)
        http_headers = StatusAndHeaders(
            f"{ex.status} {ex.reason}".strip(), ex.headers, protocol=ex.http_version
        )
        extra = {"WARC-Date": date}
        if ex.peer:
            extra["WARC-IP-Address"] = ex.peer
        response = self._writer.create_warc_record(
            ex.url,
            "response",
            payload=io.BytesIO(ex.body),
            length=len(ex.body),
            http_headers=http_headers,
            warc_headers_dict=extra,
        )
        path = urlsplit(ex.url)
        target = path.path or "/"
        if path.query:
            target += "?" + path.query
        request = self._writer.create_warc_record(
            ex.url,
            "request",
            payload=io.BytesIO(ex.request_body),
            length=len(ex.request_body),
            http_headers=StatusAndHeaders(
                f"{ex.method} {target} {ex.http_version}",
                [("Host", path.netloc), *ex.request_headers],
                is_http_request=True,
            ),
            warc_headers_dict={"WARC-Date": date},
        )
        request.rec_headers.add_header(
            "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
        )
        offset = self._out.tell()
        self._writer.write_record(response)
        length = self._out.tell() - offset
        self._writer.write_record(request)
        digest = response.rec_headers.get_header("WARC-Payload-Digest") or ""
        fields = {
            "url": ex.url,
            "mime": ex.media_type or "unk",
            "status": str(ex.status),
            "digest": digest,
            "length": str(length),
            "offset": str(offset),
            "filename": self.path.name,
        }
        self._cdx.append(f"{surt(ex.url)} {_cdx_ts(ex.started)} {json.dumps(fields)}")

    def add_metadata(self, url: str, name: str, media_type: str, data: bytes) -> None:
        """A resource record made by the capture itself (screenshot, page text, DOM)."""
        record = self._writer.create_warc_record(
            f"urn:svidok:{name}:{url}",
            "resource",
            payload=io.BytesIO(data),
            length=len(data),
            warc_content_type=media_type,
        )
        self._writer.write_record(record)

    def close(self) -> None:
        if not self._out.closed:
            self._out.flush()
            self._out.close()

    def cdxj(self) -> bytes:
        return "".join(line + "\n" for line in sorted(self._cdx)).encode("utf-8")


def write_wacz(
    target: Path,
    warc: WarcLog,
    *,
    url: str,
    title: str,
    started: float,
    software: str,
) -> None:
    """Package the closed WARC as a WACZ at ``target``."""
    pages = (
        json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})
        + "\n"
        + json.dumps({"id": "1", "url": url, "ts": _warc_date(started), "title": title})
        + "\n"
    ).encode("utf-8")
    members: list[tuple[str, bytes | Path]] = [
        (f"archive/{warc.path.name}", warc.path),
        ("indexes/index.cdx", warc.cdxj()),
        ("pages/pages.jsonl", pages),
    ]
    resources = []
    with zipfile.ZipFile(target, "x", compression=zipfile.ZIP_STORED) as z:
        for name, content in members:
            digest = hashlib.sha256()
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            size = 0
            with z.open(info, "w") as out:
                if isinstance(content, Path):
                    with content.open("rb") as src:
                        while chunk := src.read(1 << 20):
                            digest.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
                else:
                    digest.update(content)
                    size = len(content)
                    out.write(content)
            resources.append(
                {
                    "name": name.rsplit("/", 1)[-1],
                    "path": name,
                    "hash": "sha256:" + digest.hexdigest(),
                    "bytes": size,
                }
            )
        created = _warc_date(started)[:19] + "Z"
        package = json.dumps(
            {
                "profile": "data-package",
                "resources": resources,
                "wacz_version": WACZ_VERSION,
                "title": title[:500] or url,
                "mainPageURL": url,
                "mainPageDate": created,
                "created": created,
                "software": software,
            },
            indent=2,
        ).encode("utf-8")
        z.writestr(zipfile.ZipInfo("datapackage.json", _ZIP_TIME), package)
        digest_doc = json.dumps(
            {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package).hexdigest()},
            indent=2,
        ).encode("utf-8")
        z.writestr(zipfile.ZipInfo("datapackage-digest.json", _ZIP_TIME), digest_doc)
