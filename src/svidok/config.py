"""The data home's configuration file, ``svidok.toml``."""

from __future__ import annotations

import json
import re
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svidok.errors import ConfigError

CONFIG_FILE = "svidok.toml"
#: The catalog database of a new data home when ``svidok init --catalog-url`` is not given.
ENV_CATALOG_URL = "SVIDOK_CATALOG_URL"


def check_catalog_url(url: str, where: str = "catalog.url") -> str:
    """``url`` if Svidok can use it as the catalog (SQLite file or PostgreSQL), else ConfigError.

    The message never shows the URL's password.
    """
    from svidok.catalog.db import CatalogError, parse_url  # SQLAlchemy only when a URL is set

    try:
        parse_url(url)
    except CatalogError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return url


def check_tiles_url(url: str, where: str = "web.tiles") -> str:
    """``url`` if it is an https (or http) tile URL template with {z}, {x} and {y}."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise ConfigError(f"{where}: must be an https:// URL template")
    host = parts.netloc.replace("{s}", "a")  # Leaflet's subdomain placeholder
    if any(ch in host for ch in "{} ;'\",") or not all(
        f"{{{axis}}}" in url for axis in "zxy"
    ):
        raise ConfigError(f"{where}: must hold {{z}}, {{x}} and {{y}}, with a plain host name")
    return url


def tiles_origin(url: str) -> str:
    """The scheme and host of a tile URL template (for the Content-Security-Policy)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


_TSA_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_TSA_KEYS = {"name", "url", "certificates"}


@dataclass(frozen=True)
class TsaSetting:
    """One RFC 3161 time-stamping authority (``[[timestamping.tsa]]``)."""

    name: str  # names its token files: lowercase letters, digits, '-' and '_'
    url: str  # http(s) URL that takes DER TimeStampReq by POST
    certificates: str  # PEM file of the certificates to trust for it; relative: to the home

    def toml(self) -> str:
        q = json.dumps
        return (
            "[[timestamping.tsa]]\n"
            f"name = {q(self.name)}\nurl = {q(self.url)}\ncertificates = {q(self.certificates)}\n"
        )


def _seconds(value: object) -> float:
    """A TOML number of seconds (``true`` is not 1 second)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("timestamping.timeout must be a number of seconds")
    return float(value)


def _tsa_settings(value: object, where: Path) -> tuple[TsaSetting, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: timestamping.tsa must be a list ([[timestamping.tsa]])")
    from urllib.parse import urlsplit

    found: list[TsaSetting] = []
    for table in value:
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: each [[timestamping.tsa]] must be a table")
        for key in table:
            if key not in _TSA_KEYS:
                raise ConfigError(f"{where}: unknown setting timestamping.tsa.{key}")
        missing = [k for k in sorted(_TSA_KEYS) if not isinstance(table.get(k), str)]
        if missing:
            raise ConfigError(
                f"{where}: [[timestamping.tsa]] needs {', '.join(missing)} (as strings)"
            )
        tsa = TsaSetting(table["name"], table["url"], table["certificates"])
        if not _TSA_NAME.fullmatch(tsa.name):
            raise ConfigError(
                f"{where}: timestamping.tsa.name {tsa.name!r} must be 1-40 lowercase letters, "
                "digits, '-' or '_' (it names files)"
            )
        if tsa.name in {t.name for t in found}:
            raise ConfigError(f"{where}: two TSAs are named {tsa.name!r}")
        parts = urlsplit(tsa.url)
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise ConfigError(f"{where}: timestamping.tsa.url of {tsa.name!r} must be http(s)://")
        if not tsa.certificates:
            raise ConfigError(f"{where}: timestamping.tsa.certificates of {tsa.name!r} is empty")
        found.append(tsa)
    return tuple(found)


def _capture_settings(section: dict[str, object]) -> dict[str, Any]:
    """The [capture] settings, checked (TypeError or ValueError when bad)."""
    out: dict[str, Any] = {}
    if "chromium" in section:
        if not isinstance(section["chromium"], str) or not section["chromium"]:
            raise TypeError("capture.chromium must be a path to the Chromium program")
        out["capture_chromium"] = section["chromium"]
    if "timeout" in section:
        timeout = section["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError("capture.timeout must be a number of seconds")
        if not 0 < timeout <= 3600:
            raise ValueError("capture.timeout must be between 0 and 3600 seconds")
        out["capture_timeout"] = float(timeout)
    if "max_bytes" in section:
        size = section["max_bytes"]
        if type(size) is not int or size < 1:
            raise ValueError("capture.max_bytes must be a positive whole number")
        out["capture_max_bytes"] = size
    for key in ("block_private", "sandbox"):
        if key in section:
            if not isinstance(section[key], bool):
                raise TypeError(f"capture.{key} must be true or false")
            out[f"capture_{key}"] = section[key]
    return out


@dataclass(frozen=True)
class Config:
    """Settings of one data home. Unknown keys are refused, so typos do not pass silently."""

    home_id: str
    origin: str
    extract_timeout: float = 30.0
    extract_memory_mb: int = 1024
    workers: int = 2
    catalog_url: str | None = None  # None: catalog.sqlite in the data home
    taxonomy: str | None = None  # a taxonomy file for incidents; None: the Rome Statute one
    tiles: str | None = None  # map tile URL template (https://host/{z}/{x}/{y}.png); None: none
    tiles_attribution: str = ""
    tsas: tuple[TsaSetting, ...] = ()  # RFC 3161 time-stamping authorities; none: no requests
    timestamp_timeout: float = 10.0  # seconds for one TSA request
    capture_chromium: str = "/usr/bin/chromium"  # the browser of web captures
    capture_timeout: float = 60.0  # seconds for one whole web capture
    capture_max_bytes: int = 200 << 20  # all responses of one capture together
    capture_block_private: bool = False  # refuse loopback/private/reserved addresses
    capture_sandbox: bool = True  # Chromium's own sandbox (never possible as root)

    @classmethod
    def new(cls, origin: str | None = None, catalog_url: str | None = None) -> Config:
        home_id = str(uuid.uuid4())
        if catalog_url:
            check_catalog_url(catalog_url)
        return cls(
            home_id=home_id,
            origin=origin or f"svidok.local/{home_id}",
            catalog_url=catalog_url or None,
        )

    def to_toml(self) -> str:
        q = json.dumps  # TOML basic strings accept JSON string escapes
        return (
            "# Svidok data home settings (docs/configuration.md)\n"
            "[home]\n"
            f"id = {q(self.home_id)}\n\n"
            "[ledger]\n"
            "# The log's name: the first line of every checkpoint and the signing key's name.\n"
            f"origin = {q(self.origin)}\n\n"
            "[intake]\n"
            f"extract_timeout = {self.extract_timeout}\n"
            f"extract_memory_mb = {self.extract_memory_mb}\n"
            f"workers = {self.workers}\n\n"
            "[casework]\n"
            "# Violation categories for incidents (JSON). Absent: the Rome Statute arts. 7-8.\n"
            + (
                f"taxonomy = {q(self.taxonomy)}\n\n"
                if self.taxonomy
                else '# taxonomy = "/etc/svidok/our-categories.json"\n\n'
            )
            + "[web]\n"
            "# Map tiles (a URL template). Absent: the map shows points over a bundled outline.\n"
            + (
                f"tiles = {q(self.tiles)}\ntiles_attribution = {q(self.tiles_attribution)}\n\n"
                if self.tiles
                else '# tiles = "https://tiles.example.org/{z}/{x}/{y}.png"\n'
                '# tiles_attribution = "© OpenStreetMap contributors"\n\n'
            )
            + "[timestamping]\n"
            "# RFC 3161 time-stamping authorities asked to time-stamp every checkpoint.\n"
            f"timeout = {self.timestamp_timeout}\n"
            + (
                "".join("\n" + tsa.toml() for tsa in self.tsas)
                if self.tsas
                else '# [[timestamping.tsa]]\n# name = "freetsa"\n'
                '# url = "https://freetsa.org/tsr"\n# certificates = "tsa/freetsa-cacert.pem"\n'
            )
            + "\n[capture]\n"
            "# Web captures (svidok capture): the browser, and the limits of one capture.\n"
            f"chromium = {q(self.capture_chromium)}\n"
            f"timeout = {self.capture_timeout}\n"
            f"max_bytes = {self.capture_max_bytes}\n"
            f"block_private = {'true' if self.capture_block_private else 'false'}\n"
            f"sandbox = {'true' if self.capture_sandbox else 'false'}\n"
            + "\n[catalog]\n"
            "# The catalog database (derived from the ledger). Absent: catalog.sqlite here.\n"
            + (
                f"url = {q(self.catalog_url)}\n"
                if self.catalog_url
                else '# url = "postgresql+psycopg://svidok@db.example.org/svidok"\n'
            )
        )

    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        allowed = {
            "home": {"id"},
            "ledger": {"origin"},
            "intake": {"extract_timeout", "extract_memory_mb", "workers"},
            "catalog": {"url"},
            "casework": {"taxonomy"},
            "web": {"tiles", "tiles_attribution"},
            "timestamping": {"timeout", "tsa"},
            "capture": {"chromium", "timeout", "max_bytes", "block_private", "sandbox"},
        }
        for section, values in doc.items():
            if section not in allowed or not isinstance(values, dict):
                raise ConfigError(f"{path}: unknown section [{section}]")
            for key in values:
                if key not in allowed[section]:
                    raise ConfigError(f"{path}: unknown setting {section}.{key}")
        try:
            intake = doc.get("intake", {})
            url = doc.get("catalog", {}).get("url")
            if url is not None and not isinstance(url, str):
                raise TypeError("catalog.url must be a string")
            taxonomy = doc.get("casework", {}).get("taxonomy")
            if taxonomy is not None and not isinstance(taxonomy, str):
                raise TypeError("casework.taxonomy must be a string (a file path)")
            web = doc.get("web", {})
            tiles = web.get("tiles")
            if tiles is not None and not isinstance(tiles, str):
                raise TypeError("web.tiles must be a string (a URL template)")
            attribution = web.get("tiles_attribution", "")
            if not isinstance(attribution, str):
                raise TypeError("web.tiles_attribution must be a string")
            cfg = cls(
                home_id=str(doc["home"]["id"]),
                origin=str(doc["ledger"]["origin"]),
                extract_timeout=float(intake.get("extract_timeout", 30.0)),
                extract_memory_mb=int(intake.get("extract_memory_mb", 1024)),
                workers=int(intake.get("workers", 2)),
                catalog_url=url or None,
                taxonomy=taxonomy or None,
                tiles=tiles or None,
                tiles_attribution=attribution,
                tsas=_tsa_settings(doc.get("timestamping", {}).get("tsa", []), path),
                timestamp_timeout=_seconds(doc.get("timestamping", {}).get("timeout", 10.0)),
                **_capture_settings(doc.get("capture", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: missing or bad setting: {exc}") from exc
        if not 0 < cfg.extract_timeout <= 3600:
            raise ConfigError(f"{path}: intake.extract_timeout must be between 0 and 3600 seconds")
        if not 64 <= cfg.extract_memory_mb <= 65536:
            raise ConfigError(f"{path}: intake.extract_memory_mb must be between 64 and 65536")
        if not 1 <= cfg.workers <= 64:
            raise ConfigError(f"{path}: intake.workers must be between 1 and 64")
        if not 0 < cfg.timestamp_timeout <= 600:
            raise ConfigError(f"{path}: timestamping.timeout must be between 0 and 600 seconds")
        if cfg.tiles:
            check_tiles_url(cfg.tiles, f"{path}: web.tiles")
        if cfg.catalog_url:
            check_catalog_url(cfg.catalog_url, f"{path}: catalog.url")
        return cfg
