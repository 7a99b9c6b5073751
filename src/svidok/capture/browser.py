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
import signal
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from svidok.capture.fetch import Certificate, Exchange, Fetcher, Limits, check_url
from svidok.capture.wacz import WarcLog, write_wacz
from svidok.errors import CaptureError

MEDIA_FLOOR = 1024  # embedded media smaller than this (tracking pixels, spacers) is not an item
MAX_MEDIA = 200
MAX_SKIPPED_KEPT = 1000  # skipped requests kept in memory (a page can make millions)
MAX_SHOT_HEIGHT = 16384  # screenshot pixels: a taller page is cut there (``cut`` says so)
MAX_SHOT_WIDTH = 4096
MAX_TEXT = 10 << 20  # bytes of page text (UTF-8) kept; more is cut
MAX_DOM = 20 << 20  # bytes of rendered DOM kept; more is cut
MAX_TITLE = 1000  # characters of the page's title kept (as in the entry)
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
    skipped: list[tuple[str, str]] = field(default_factory=list)  # the first ones
    skipped_count: int = 0  # all of them
    rendered: bool = True  # False: the browser did not render the URL (a download)
    cut: list[str] = field(default_factory=list)  # roles cut at their limit (screenshot...)


def _decoded(ex: Exchange, limit: int) -> bytes:
    """The body without its gzip/deflate encoding, at most ``limit`` bytes of it (a small
    body may inflate to gigabytes): CaptureError beyond. Undecodable: the body as it came."""
    coding = (ex.header("content-encoding") or "").strip().lower()
    if coding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif coding == "deflate":
        inflater = zlib.decompressobj()
    else:
        return ex.body
    try:
        out = inflater.decompress(ex.body, limit + 1)
    except zlib.error:
        return ex.body
    if len(out) > limit:
        raise CaptureError(
            f"{_short(ex.url)} is larger than the limit of {limit} bytes once decompressed"
        )
    return out


def _is_attachment(ex: Exchange) -> bool:
    disposition = (ex.header("content-disposition") or "").strip().lower()
    return disposition.startswith("attachment")


def without_credentials(url: str) -> str:
    """``url`` without a user name or password (never recorded)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


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
        self.skipped_count = 0
        self.inflated = 0  # bytes that decompression added: they count against max_bytes
        self.next_url: str | None = None  # where the page's last response redirects to
        self.page: Any = None  # the captured page (popups are other pages)
        self.navigating = False  # a navigation of ours is awaited (others are the page's own)
        self.marker = f"--svidok-capture={uuid.uuid4().hex}"  # names this capture's Chromium
        self.killed = False  # the watchdog ended Chromium at the timeout
        self.driver: int | None = None  # the process id of Playwright's driver
        self.killed_pids: set[int] = set()

    def skip(self, url: str, why: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED_KEPT:
            self.skipped.append((without_credentials(url), why))

    def handle(self, route: Any, request: Any) -> None:
        """Every request of the browser; nothing may escape from here (Playwright would
        only log it, and the page would wait for an answer until the timeout)."""
        try:
            self._handle(route, request)
        except Exception as exc:
            if self.failure is None:
                where = _short(without_credentials(request.url))
                self.failure = f"cannot fetch {where}: {type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                route.abort()

    def _handle(self, route: Any, request: Any) -> None:
        if self.failure is not None:
            route.abort()
            return
        try:
            page = request.frame.page
        except Exception:  # a worker's request: no frame
            page = None
        if page is not self.page:
            self.skip(request.url, "made by a popup or a worker: not followed")
            route.abort()
            return
        if request.resource_type in ("eventsource", "websocket"):
            self.skip(request.url, "an event stream: not captured")
            route.abort()
            return
        frame = request.frame if request.is_navigation_request() else None
        is_main = frame is not None and frame.parent_frame is None
        if is_main:
            if not self.navigating:
                self.skip(request.url, "a navigation by the page itself: not followed")
                route.abort()
                return
            self.navigating = False
        url, hops = request.url, 0
        while True:
            try:
                ex = self.fetcher.fetch(
                    request.method if hops == 0 else "GET",
                    url,
                    list(request.headers.items()),
                    request.post_data_buffer if hops == 0 else None,
                )
                room = self.limits.max_bytes - self.fetcher.bytes - self.inflated
                body = _decoded(ex, max(0, min(self.limits.max_response, room)))
                self.inflated += max(0, len(body) - len(ex.body))
            except CaptureError as exc:
                fatal = (
                    is_main
                    or self.fetcher.left() <= 0
                    or self.fetcher.bytes > self.limits.max_bytes
                )
                if fatal:
                    self.failure = str(exc)
                else:
                    self.skip(url, str(exc))
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
                self.skip(request.url, "too many redirects")
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
        route.fulfill(status=ex.status, headers=headers, body=body)


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

    check_url(url)
    s = _Session(url, limits, folder, user_agent)
    manager, playwright = _start_driver(s, folder / "tmp")
    # a page's script can keep Chromium, or Playwright's driver, busy for ever (and
    # Playwright's calls that read the page have no timeout): at the deadline both are killed
    watchdog = threading.Timer(max(0.0, s.fetcher.left()) + 5.0, _kill, (s,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return _launch_and_run(s, playwright, chromium, sandbox, PlaywrightError)
    except PlaywrightError as exc:
        if s.killed:
            raise CaptureError("the capture took longer than its timeout") from exc
        raise CaptureError(f"the browser failed: {_first_line(exc)}") from exc
    except CaptureError as exc:
        if s.killed:
            raise CaptureError("the capture took longer than its timeout") from exc
        raise
    finally:
        watchdog.cancel()
        watchdog.join()  # a kill under way ends first
        with contextlib.suppress(Exception):
            manager.__exit__(None, None, None)  # ends the driver and its Chromium
        _wait_killed(s)
        s.warc.close()
        s.fetcher.close()


_DRIVER_ENV = threading.Lock()


def _start_driver(s: _Session, tmp: Path) -> tuple[Any, Any]:
    """Playwright's driver, with its and Chromium's temporary files (profile, artifacts)
    in ``tmp``, inside the capture's working folder, so that they go with it even when
    they are killed."""
    from playwright.sync_api import sync_playwright

    tmp.mkdir()
    manager = sync_playwright()
    with _DRIVER_ENV:  # the driver takes TMPDIR from this process's environment
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(tmp)
        try:
            playwright = manager.start()
        finally:
            if before is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = before
    client = getattr(manager, "_client", None)
    proc = getattr(getattr(client, "_transport", None), "_proc", None)
    s.driver = getattr(proc, "pid", None)
    return manager, playwright


def _launch_and_run(
    s: _Session, playwright: Any, chromium: str, sandbox: bool, error: type[Exception]
) -> Fetched:
    sandboxed = sandbox_used(sandbox)
    try:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[*_ARGS, s.marker],
            # Chromium's own popup blocker (Playwright turns it off by default)
            ignore_default_args=["--disable-popup-blocking"],
            chromium_sandbox=sandboxed,
            timeout=30_000,
        )
    except error as exc:
        hint = (" (its sandbox could not start: give this user namespaces, or set"
                " capture.sandbox = false, see docs/threat-model.md)" if sandboxed else "")
        raise CaptureError(
            f"Chromium at {chromium} did not start{hint}: {_first_line(exc)}"
        ) from exc
    try:
        return _run(s, browser, error)
    finally:
        with contextlib.suppress(error):
            browser.close()


def _processes() -> dict[int, tuple[int, bytes]]:
    """Every live process: its parent and command line (zombies left out)."""
    out: dict[int, tuple[int, bytes]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            state, ppid = proc.joinpath("stat").read_text().rpartition(")")[2].split()[:2]
            if state != "Z":
                out[int(proc.name)] = (int(ppid), proc.joinpath("cmdline").read_bytes())
        except (OSError, ValueError):
            continue
    return out


def _kill(s: _Session) -> None:
    """End this capture's Chromium and Playwright driver, and every process below them
    (Chromium's processes are found by the marker on the command line of its first)."""
    s.killed = True
    procs = _processes()
    marker = s.marker.encode()
    tree = {pid for pid, (_, cmd) in procs.items() if marker in cmd.split(b"\0")}
    if s.driver is not None:
        tree.add(s.driver)
    grew = True
    while grew:
        below = {pid for pid, (ppid, _) in procs.items() if ppid in tree} - tree
        tree |= below
        grew = bool(below)
    s.killed_pids = tree
    for pid in tree:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _wait_killed(s: _Session) -> None:
    """After a kill, until the killed processes are gone (they may still write into the
    working folder), at most 10 seconds."""
    deadline = time.monotonic() + 10
    while s.killed_pids and time.monotonic() < deadline:
        s.killed_pids &= set(_processes())
        if s.killed_pids:
            time.sleep(0.05)


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
    context.add_init_script(_INIT_JS)
    context.route("**/*", s.handle)
    page = context.new_page()
    s.page = page
    rendered = _navigate(s, page, error)
    if s.failure is not None:
        raise CaptureError(s.failure)
    if not s.main:
        raise CaptureError("the browser made no request for the page")
    outputs: list[Output] = []
    title = ""
    cut: list[str] = []
    if rendered:
        with contextlib.suppress(error):  # still busy after that: capture what is there
            page.wait_for_load_state(
                "networkidle", timeout=max(1.0, min(5.0, s.fetcher.left() - 1)) * 1000
            )
        if s.failure is not None:
            raise CaptureError(s.failure)
        try:
            title = _clean(str(page.title() or "")[:MAX_TITLE])
            shot, shot_cut = _screenshot(s, page)
            dom, dom_cut = _bounded(str(page.evaluate(_DOM_JS, MAX_DOM) or ""), MAX_DOM)
            text, text_cut = _bounded(str(page.evaluate(_TEXT_JS, MAX_TEXT) or ""), MAX_TEXT)
        except error as exc:
            if s.killed or s.fetcher.left() <= 0 or "Timeout" in type(exc).__name__:
                raise CaptureError("the capture took longer than its timeout") from exc
            raise CaptureError(f"the page could not be rendered: {_first_line(exc)}") from exc
        if s.fetcher.left() <= 0:
            raise CaptureError("the capture took longer than its timeout")
        outputs += _write(s, "screenshot", "screenshot.png", "image/png", shot)
        outputs += _write(s, "rendered", "rendered-dom.html", "text/html", dom)
        outputs += _write(s, "text", "text.txt", "text/plain", text)
        cut = [r for r, c in (("screenshot", shot_cut), ("rendered", dom_cut),
                              ("text", text_cut)) if c]
    context.close()
    final = s.main[-1]
    if final.media_type in _HTML and rendered:
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
        skipped_count=s.skipped_count,
        rendered=rendered,
        cut=cut,
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
        s.navigating = True
        try:
            page.goto(target, timeout=max(1.0, s.fetcher.left()) * 1000, wait_until="load")
        except error as exc:
            if s.failure is not None:
                raise CaptureError(s.failure) from exc
            if s.next_url is None:
                last = s.main[-1] if s.main else None
                if last is None or (last.media_type in _HTML and not _is_attachment(last)):
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
        try:
            body = _decoded(ex, s.limits.max_response)
        except CaptureError:  # already named in skipped
            continue
        if len(body) < MEDIA_FLOOR or ex.url in seen or len(out) >= MAX_MEDIA:
            continue
        seen.add(ex.url)
        path = media / f"{len(out) + 1:03d}{_extension(ex.media_type)}"
        path.write_bytes(body)
        out.append(Output("media", path, ex.media_type, ex.url))
    return out


# a flood of history entries keeps Playwright's driver busy with events: a few are allowed
_INIT_JS = """(() => {
    let left = 100;
    for (const name of ['pushState', 'replaceState']) {
        const real = History.prototype[name];
        History.prototype[name] = function (...args) {
            if (left > 0) { left--; return real.apply(this, args); }
        };
    }
})();"""
_DOM_JS = """limit => {
    let out = '';
    if (document.doctype) out = new XMLSerializer().serializeToString(document.doctype);
    if (document.documentElement) out += document.documentElement.outerHTML;
    return out.slice(0, limit + 1);
}"""
_TEXT_JS = """limit => {
    const t = document.body ? document.body.innerText
        : (document.documentElement && document.documentElement.textContent) || '';
    return t.slice(0, limit + 1);
}"""
_SIZE_JS = """() => {
    const d = document.documentElement, b = document.body;
    return [Math.max(d ? d.scrollWidth : 0, b ? b.scrollWidth : 0),
            Math.max(d ? d.scrollHeight : 0, b ? b.scrollHeight : 0)];
}"""


def _clean(text: str) -> str:
    """``text`` with lone surrogates (JavaScript strings may hold them) as U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _bounded(text: str, limit: int) -> tuple[bytes, bool]:
    """``text`` as UTF-8 of at most ``limit`` bytes (cut between characters), and whether
    it was cut."""
    data = _clean(text).encode("utf-8")
    if len(data) <= limit:
        return data, False
    return data[:limit].decode("utf-8", "ignore").encode("utf-8"), True


def _screenshot(s: _Session, page: Any) -> tuple[bytes, bool]:
    """The whole page as PNG, at most MAX_SHOT_WIDTH x MAX_SHOT_HEIGHT pixels (cut beyond)."""
    width, height = (int(v) for v in page.evaluate(_SIZE_JS))
    cut = width > MAX_SHOT_WIDTH or height > MAX_SHOT_HEIGHT
    clip = {"x": 0, "y": 0, "width": max(1, min(width, MAX_SHOT_WIDTH)),
            "height": max(1, min(height, MAX_SHOT_HEIGHT))}
    shot = page.screenshot(
        full_page=True, clip=clip, type="png", timeout=max(1.0, s.fetcher.left()) * 1000
    )
    return bytes(shot), cut


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
