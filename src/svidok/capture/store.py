"""Store what a capture made: objects through intake, one ``capture`` entry, items.

Order: the browser stage writes into a private working folder (nothing stored if it
fails); then the files go through :func:`ingest` (one OCFL object per distinct content, each
with its ``acquisition`` and ``extraction`` entries, the acquisition's ``source`` being the
captured URL); then one ``capture`` entry names every object and its role; then each object
not yet an item of the case becomes one. A crash between ingest and the capture entry leaves
objects fully accounted for by their acquisitions, without the capture entry.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from svidok import __version__
from svidok.capture.browser import Fetched, Output, load
from svidok.capture.fetch import Limits, check_url
from svidok.errors import CaptureError
from svidok.ledger.entries import Draft, JSONValue, format_time
from svidok.textsafe import escape_text

if TYPE_CHECKING:
    from svidok.cases.access import Actor
    from svidok.cases.service import Casework
    from svidok.config import Config
    from svidok.home import Home

DEFAULT_CHROMIUM = "/usr/bin/chromium"
MAX_SKIPPED = 100  # skipped requests named in the entry (the count is always complete)
_TITLES = {
    "wacz": "Web capture (WACZ)",
    "source": "HTML source as served",
    "rendered": "Rendered page (DOM)",
    "screenshot": "Full-page screenshot",
    "text": "Page text",
    "media": "Embedded media",
    "resource": "Captured file",
}


@dataclass(frozen=True)
class CaptureOptions:
    case: str  # reference or UUID of an existing case
    collector: str
    note: str | None = None
    limits: Limits = field(default_factory=Limits)
    chromium: str = DEFAULT_CHROMIUM
    sandbox: bool = True  # Chromium's own sandbox, whenever Svidok does not run as root
    user_agent: str | None = None  # None: desktop Chrome's, of the same version

    def __post_init__(self) -> None:
        for name in ("case", "collector"):
            value = getattr(self, name)
            if not value or not value.strip():
                raise CaptureError(f"--{name} must not be empty")
            if len(value) > 500 or escape_text(value) != value:
                raise CaptureError(f"--{name} is too long or holds control characters")
        if self.note is not None and (len(self.note) > 5000 or "\x00" in self.note):
            raise CaptureError("--note is longer than 5000 characters or holds NUL")


@dataclass(frozen=True)
class StoredOutput:
    role: str
    object_id: str
    media_type: str
    size: int
    url: str | None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "role": self.role,
            "object": self.object_id,
            "media_type": self.media_type,
            "size": self.size,
            "url": self.url,
        }


@dataclass(frozen=True)
class CaptureReport:
    entry: int
    case_id: str
    fetched: Fetched
    objects: list[StoredOutput]
    items: list[str]

    def to_json(self) -> dict[str, JSONValue]:
        f = self.fetched
        return {
            "entry": self.entry,
            "case": self.case_id,
            "url": f.url,
            "final_url": f.final_url,
            "status": f.status,
            "title": f.title,
            "objects": [o.to_json() for o in self.objects],
            "items": list(self.items),
            "skipped": f.skipped_count,
            "cut": list(f.cut),
        }


def options_for(
    config: Config,
    *,
    case: str,
    collector: str,
    note: str | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
    allow_untrusted: bool = False,
) -> CaptureOptions:
    """Options from the home's [capture] settings, with what the caller gave instead."""
    total = config.capture_max_bytes if max_bytes is None else max_bytes
    return CaptureOptions(
        case=case,
        collector=collector,
        note=note,
        limits=Limits(
            timeout=config.capture_timeout if timeout is None else timeout,
            max_bytes=total,
            max_response=min(Limits.max_response, total),
            block_private=config.capture_block_private,
            allow_untrusted=allow_untrusted,
        ),
        chromium=config.capture_chromium,
        sandbox=config.capture_sandbox,
    )


def capture(
    home: Home,
    url: str,
    options: CaptureOptions,
    actor: Actor,
    work: Casework | None = None,
    storing: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> CaptureReport:
    """Capture ``url`` into the case; CaptureError (nothing stored) when it fails.

    ``storing``: held while the objects, the entry and the items are written (the web
    server serialises its changes with it), not while the browser works."""
    from svidok.cases.access import Permission
    from svidok.cases.service import open_casework
    from svidok.catalog.casework import find_case_id

    check_url(url)
    work = work or open_casework(home)
    with home.catalog.engine.connect() as conn:
        case_id = find_case_id(conn, options.case)
        granted = work.allowed(conn, actor, case_id) if case_id else frozenset()
    if case_id is None or not granted:
        raise CaptureError(f"no such case, or no access to it: {escape_text(options.case)}")
    if Permission.EDIT not in granted:
        raise CaptureError("your role on this case does not allow: edit")
    folder = Path(tempfile.mkdtemp(prefix="svidok-capture-"))
    try:
        fetched = load(
            url,
            options.limits,
            folder,
            chromium=options.chromium,
            sandbox=options.sandbox,
            user_agent=options.user_agent,
        )
        # ingest commits on its own thread (it takes the ledger lock there), so the capture
        # entry follows in a second hold of the lock
        with storing():
            stored = _ingest(home, fetched, case_id, options)
            entry_data = _entry(fetched, case_id, options, stored)
            with home.writing():
                entry = home.commit([Draft("capture", options.collector, entry_data)])[0]
            names = [(o.object_id, _title(o, fetched)) for o in stored]
            items = work.add_intake_items(actor, case_id, names)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return CaptureReport(entry.index, case_id, fetched, stored, items)


def _ingest(
    home: Home, fetched: Fetched, case_id: str, options: CaptureOptions
) -> list[StoredOutput]:
    from svidok.intake.ingest import IngestOptions, ingest

    paths = [str(o.path) for o in fetched.outputs]
    report = ingest(
        home,
        paths,
        IngestOptions(
            case=case_id, collector=options.collector, source=fetched.url, note=options.note
        ),
    )
    by_path = {o.path: o for o in report.outcomes}
    stored = []
    for out in fetched.outputs:
        outcome = by_path.get(str(out.path).encode())
        if outcome is None or not outcome.ok or outcome.object_id is None:
            why = outcome.reason if outcome is not None else "not found"
            raise CaptureError(f"the capture's {out.role} could not be preserved: {why}")
        stored.append(
            StoredOutput(out.role, outcome.object_id, out.media_type, outcome.size or 0, out.url)
        )
    return stored


def _entry(
    f: Fetched, case_id: str, options: CaptureOptions, stored: list[StoredOutput]
) -> dict[str, JSONValue]:
    lim = options.limits
    return {
        "case": case_id,
        "collector": options.collector,
        "note": options.note,
        "url": f.url,
        "final_url": f.final_url,
        "redirects": [{"url": u, "status": s} for u, s in f.redirects],
        "status": f.status,
        "title": f.title[:1000],
        "started": format_time(datetime.fromtimestamp(f.started, UTC)),
        "ended": format_time(datetime.fromtimestamp(f.ended, UTC)),
        "rendered": f.rendered,
        "cut": list(f.cut),
        "tls": f.certificate.to_json() if f.certificate else None,
        "user_agent": f.user_agent,
        "tools": {
            "svidok": __version__,
            "chromium": f.chromium,
            "playwright": f.playwright,
        },
        "limits": {
            "timeout": lim.timeout,
            "max_bytes": lim.max_bytes,
            "max_response": lim.max_response,
            "max_requests": lim.max_requests,
            "max_redirects": lim.max_redirects,
            "block_private": lim.block_private,
            "allow_untrusted": lim.allow_untrusted,
        },
        "requests": f.requests,
        "bytes": f.bytes,
        "skipped_count": f.skipped_count,
        "skipped": [{"url": u, "reason": r} for u, r in f.skipped[:MAX_SKIPPED]],
        "objects": [o.to_json() for o in stored],
    }


def _title(o: StoredOutput, f: Fetched) -> str:
    where = o.url or f.url
    parts = urlsplit(where)
    return f"{_TITLES.get(o.role, o.role)}: {parts.netloc}{parts.path}"[:500]


__all__ = ["CaptureOptions", "CaptureReport", "Output", "StoredOutput", "capture", "options_for"]
