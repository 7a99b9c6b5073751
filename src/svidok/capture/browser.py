"""Load a page in headless Chromium with every request made from Python and recorded.

Each request the browser makes is intercepted (``context.route("**/*")``), performed by
:class:`~svidok.capture.fetch.Fetcher`, written as a WARC request/response pair and given back
to the browser with the same status, headers and body. Chromium is also pointed at a proxy
that does not exist, so that a request escaping interception fails instead of reaching the
network. Route handlers run one at a time on the Playwright thread: requests are fetched one
after another. Everything is written into a working folder; nothing is stored here.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from svidok.capture.fetch import Certificate, Exchange, Fetcher, Limits, check_url
from svidok.capture.wacz import WarcLog, write_wacz
from svidok.errors import CaptureError

MEDIA_FLOOR = 1024  # embedded media smaller than this (tracking pixels, spacers) is not an item
MAX_MEDIA = 200
_HTML = {"text/html", "application/xhtml+xml"}
_ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-sync",
    "--no-first-run",
    "--dns-prefetch-disable",
    "--proxy-server=http://127.0.0.1:9",  # anything not intercepted fails, never leaves
    "--proxy-bypass-list=<-loopback>",
]
_NOT_PASSED = {"content-length", "transfer-encoding", "content-encoding", "connection"}


@dataclass(frozen=True)
class Output:
    """One file a capture made, to be stored as an object of its own."""

    role: str  # wacz, source, rendered, screenshot, text, media, resource
    path: Path
    media_type: str
    url: str | None = None  # the URL it was fetched from (source, media, resource)


@dataclass
class Fetched:
    """What the browser stage produced, in its working folder."""

    url: str
    final_url: str
    status: int
    redirects: list[tuple[str, int]]
    title: str
    started: float
    ended: float
    certificate: Certificate | None
    user_agent: str
    chromium: str
    playwright: str
    requests: int
    bytes: int
    outputs: list[Output] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rendered: bool = True  # False: the browser did not render the URL (a download)


def _decoded(ex: Exchange) -> bytes:
    coding = (ex.header("content-encoding") or "").strip().lower()
    try:
        if coding in ("gzip", "x-gzip"):
            return zlib.decompress(ex.body, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            return zlib.decompress(ex.body)
    except zlib.error:
        return ex.body
    return ex.body


def _extension(media_type: str) -> str:
    from svidok.intake.detect import extension_for

    return extension_for(media_type) or ".bin"


class _Session:
    def __init__(self, url: str, limits: Limits, folder: Path, user_agent: str | None) -> None:
        self.url = url
        self.limits = limits
        self.folder = folder
        self.started = time.time()
        self.fetcher = Fetcher(limits, user_agent or "", time.monotonic() + limits.timeout)
        self.warc = WarcLog(folder / "data.warc.gz", _software())
        self.exchanges: list[Exchange] = []
        self.main: list[Exchange] = []  # the main document's hops, in order
        self.failure: str | None = None
        self.skipped: list[tuple[str, str]] = []
        self.next_url: str | None = None  # where the page's last response redirects to

    def handle(self, route: Any, request: Any) -> None:
        """Every request of the browser; nothing may escape from here (Playwright would
        only log it, and the page would wait for an answer until the timeout)."""
        try:
            self._handle(route, request)
        except Exception as exc:
            if self.failure is None:
                self.failure = f"cannot fetch {_short(request.url)}: {type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                route.abort()

    def _handle(self, route: Any, request: Any) -> None:
        if self.failure is not None:
            route.abort()
            return
        frame = request.frame if request.is_navigation_request() else None
        is_main = frame is not None and frame.parent_frame is None
        url, hops = request.url, 0
        while True:
            try:
                ex = self.fetcher.fetch(
                    request.method if hops == 0 else "GET",
                    url,
                    list(request.headers.items()),
                    request.post_data_buffer if hops == 0 else None,
                )
            except CaptureError as exc:
                fatal = (
                    is_main
                    or self.fetcher.left() <= 0
                    or self.fetcher.bytes > self.limits.max_bytes
                )
                if fatal:
                    self.failure = str(exc)
                else:
                    self.skipped.append((url, str(exc)))
                route.abort()
                return
            location = ex.header("location") if 300 <= ex.status < 400 else None
            if location is None:
                break
            # Chromium does not intercept the request a fulfilled redirect leads to, so
            # redirects are followed here: the page's by a new navigation (see _run), so
            # that it has its real address; a resource's at once, giving the browser the end
            self.warc.add(ex)
            self.exchanges.append(ex)
            if is_main:
                self.main.append(ex)
                self.next_url = urljoin(url, location)
                # a blank page stands in (an aborted one would race the next navigation)
                route.fulfill(status=200, content_type="text/html", body=b"")
                return
            url, hops = urljoin(url, location), hops + 1
            if hops > self.limits.max_redirects:
                self.skipped.append((request.url, "too many redirects"))
                route.abort()
                return
        self.warc.add(ex)
        self.exchanges.append(ex)
        if is_main:
            self.main.append(ex)
        headers: dict[str, str] = {}
        for key, value in ex.headers:
            if key.lower() in _NOT_PASSED:
                continue
            sep = "\n" if key.lower() == "set-cookie" else ", "
            headers[key] = f"{headers[key]}{sep}{value}" if key in headers else value
        route.fulfill(status=ex.status, headers=headers, body=_decoded(ex))


def _software() -> str:
    from svidok import __version__

    return f"Svidok {__version__} (warcio {importlib.metadata.version('warcio')})"


def _short(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "…"


def sandbox_used(wanted: bool) -> bool:
    """Whether Chromium runs in its own sandbox: when wanted, unless this process is root
    (Chromium refuses its sandbox to root; as root the page is only confined by the
    interception of every request)."""
    return wanted and os.geteuid() != 0


def load(
    url: str,
    limits: Limits,
    folder: Path,
    *,
    chromium: str,
    sandbox: bool = True,
    user_agent: str | None = None,
) -> Fetched:
    """Capture ``url`` into ``folder`` (empty, private to this capture). ``user_agent``
    None: that of desktop Chrome of the same version (headless Chromium's own says
    "HeadlessChrome"; nothing in it names Svidok)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    check_url(url)
    s = _Session(url, limits, folder, user_agent)
    try:
        with sync_playwright() as p:
            sandboxed = sandbox_used(sandbox)
            try:
                browser = p.chromium.launch(
                    executable_path=chromium,
                    args=_ARGS,
                    chromium_sandbox=sandboxed,
                    timeout=30_000,
                )
            except PlaywrightError as exc:
                hint = (" (its sandbox could not start: give this user namespaces, or set"
                        " capture.sandbox = false, see docs/threat-model.md)" if sandboxed else "")
                raise CaptureError(
                    f"Chromium at {chromium} did not start{hint}: {_first_line(exc)}"
                ) from exc
            try:
                return _run(s, browser, PlaywrightError)
            finally:
                browser.close()
    finally:
        s.warc.close()
        s.fetcher.close()


def _run(s: _Session, browser: Any, error: type[Exception]) -> Fetched:
    if not s.fetcher.user_agent:
        s.fetcher.user_agent = (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{browser.version} Safari/537.36"
        )
    context = browser.new_context(
        user_agent=s.fetcher.user_agent,
        service_workers="block",
        accept_downloads=False,
        viewport={"width": 1280, "height": 900},
    )
    context.route("**/*", s.handle)
    page = context.new_page()
    rendered = _navigate(s, page, error)
    if s.failure is not None:
        raise CaptureError(s.failure)
    if not s.main:
        raise CaptureError("the browser made no request for the page")
    outputs: list[Output] = []
    title = ""
    if rendered:
        with contextlib.suppress(error):  # still busy after that: capture what is there
            page.wait_for_load_state(
                "networkidle", timeout=max(1.0, min(5.0, s.fetcher.left() - 1)) * 1000
            )
        if s.failure is not None:
            raise CaptureError(s.failure)
        try:
            title = page.title()
            shot = page.screenshot(
                full_page=True, type="png", timeout=max(1.0, s.fetcher.left()) * 1000
            )
            dom = page.content().encode("utf-8")
            text = page.evaluate(
                "() => document.body ? document.body.innerText"
                " : document.documentElement.textContent || ''"
            )
        except error as exc:
            raise CaptureError(f"the page could not be rendered: {_first_line(exc)}") from exc
        if s.fetcher.left() <= 0:
            raise CaptureError("the capture took longer than its timeout")
        outputs += _write(s, "screenshot", "screenshot.png", "image/png", shot)
        outputs += _write(s, "rendered", "rendered-dom.html", "text/html", dom)
        outputs += _write(s, "text", "text.txt", "text/plain", str(text or "").encode("utf-8"))
    context.close()
    final = s.main[-1]
    if final.media_type in _HTML:
        outputs += _write(s, "source", "source.html", "text/html", final.body, final.url)
    else:
        ext = _extension(final.media_type)
        outputs += _write(s, "resource", "resource" + ext, final.media_type, final.body, final.url)
    outputs += _media(s, final)
    chain = [(ex.url, ex.status) for ex in s.main]
    fetched = Fetched(
        url=s.url,
        final_url=final.url,
        status=final.status,
        redirects=chain[:-1],
        title=title,
        started=s.started,
        ended=time.time(),
        certificate=next((ex.certificate for ex in s.main if ex.certificate), None),
        user_agent=s.fetcher.user_agent,
        chromium=str(browser.version),
        playwright=importlib.metadata.version("playwright"),
        requests=s.fetcher.requests,
        bytes=s.fetcher.bytes,
        skipped=s.skipped,
        rendered=rendered,
    )
    s.warc.close()
    wacz = s.folder / "capture.wacz"
    write_wacz(wacz, s.warc, url=s.url, title=title, started=s.started, software=_software())
    fetched.outputs = [Output("wacz", wacz, "application/wacz"), *outputs]
    return fetched


def _navigate(s: _Session, page: Any, error: type[Exception]) -> bool:
    """Open the page, following its redirects; False when the browser does not render it
    (it would download it, e.g. a PDF)."""
    target, seen = s.url, {s.url}
    while True:
        s.next_url = None
        try:
            page.goto(target, timeout=max(1.0, s.fetcher.left()) * 1000, wait_until="load")
        except error as exc:
            if s.failure is not None:
                raise CaptureError(s.failure) from exc
            if s.next_url is None:
                last = s.main[-1] if s.main else None
                if last is None or last.media_type in _HTML:
                    if s.fetcher.left() <= 0 or "Timeout" in type(exc).__name__:
                        raise CaptureError("the capture took longer than its timeout") from exc
                    raise CaptureError(
                        f"the page could not be loaded: {_first_line(exc)}"
                    ) from exc
                return False
        if s.next_url is None:
            return True
        if s.next_url in seen:
            raise CaptureError(f"redirect loop: {_short(s.next_url)} was reached twice")
        if len(seen) > s.limits.max_redirects:
            raise CaptureError(f"more than {s.limits.max_redirects} redirects")
        check_url(s.next_url)
        target = s.next_url
        seen.add(target)


def _write(
    s: _Session, role: str, name: str, media_type: str, data: bytes, url: str | None = None
) -> list[Output]:
    path = s.folder / name
    path.write_bytes(data)
    if role in ("screenshot", "rendered", "text"):
        s.warc.add_metadata(s.url, role, media_type, data)
    return [Output(role, path, media_type, url)]


def _media(s: _Session, final: Exchange) -> list[Output]:
    """Images, video and audio the page fetched (whole, 200 OK, over the floor), one file each."""
    media = s.folder / "media"
    media.mkdir()
    out: list[Output] = []
    seen: set[str] = set()
    for ex in s.exchanges:
        kind = ex.media_type.partition("/")[0]
        if ex is final or kind not in ("image", "video", "audio") or ex.status != 200:
            continue
        body = _decoded(ex)
        if len(body) < MEDIA_FLOOR or ex.url in seen or len(out) >= MAX_MEDIA:
            continue
        seen.add(ex.url)
        path = media / f"{len(out) + 1:03d}{_extension(ex.media_type)}"
        path.write_bytes(body)
        out.append(Output("media", path, ex.media_type, ex.url))
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
