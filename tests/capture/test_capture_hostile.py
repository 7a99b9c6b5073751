"""Web captures of hostile pages: each page here tries to hang, exhaust or mislead the
capture. Every capture must end within its timeout, either recorded or refused with a
CaptureError that stores nothing, and leave no Chromium process nor working folder behind."""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from capture.capture_kit import OPERATOR, PNG, warc_records
from capture.capture_kit import _Handler as Handler
from svidok.capture import CaptureOptions, Limits, capture
from svidok.errors import CaptureError
from svidok.home import Home

TALL = (b"<!doctype html><html><head><title>Tall</title></head>"
        b"<body style='margin:0'><div style='height:1000000px;background:"
        b"linear-gradient(red,blue)'>top of a very tall page</div></body></html>")
BOMB = gzip.compress(bytes(300 << 20), compresslevel=9)  # ~300 KB that inflate to 300 MB


def _big_text_page() -> bytes:
    line = b"<p>" + b"word " * 200 + b"</p>\n"
    return b"<!doctype html><title>Big</title><body>" + line * (50_000_000 // len(line))


class _Hostile(Handler):
    def _page(self, body: str, title: str = "Hostile") -> None:
        html = f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"
        self._send(200, "text/html; charset=utf-8", html.encode())

    def do_GET(self) -> None:
        p = self.path
        if p == "/tall":
            self._send(200, "text/html", TALL)
        elif p == "/bigtext":
            self._send(200, "text/html", _big_text_page())
        elif p == "/busy":
            self._page("<p>busy</p><script>addEventListener('load', () =>"
                       " setTimeout(() => { for (;;) {} }, 10))</script>")
        elif p == "/cyrillic":
            self._page("<p>" + "Свідчення з вулиці. " * 1_000 + "</p>")
        elif p.startswith("/jsloop"):
            n = int(p.partition("?")[2] or 0)
            self._page(f"<p>hop {n}</p><script>location.href='/jsloop?{n + 1}'</script>")
        elif p.startswith("/metaloop"):
            self._send(200, "text/html", b"<meta http-equiv=refresh content=0><p>again</p>")
        elif p == "/pushstate":
            self._page("<p>flood</p><script>for (let i = 0; i < 100000; i++)"
                       " history.pushState({}, '', '/pushed' + i);</script>")
        elif p == "/popup":
            self._page("<p>opener</p><script>for (let i = 0; i < 5; i++)"
                       " window.open('/popped?' + i);</script>")
        elif p.startswith("/popped"):
            self._page("<p>I am a popup</p>", title="Popup")
        elif p == "/dialogs":
            self._page("<p>dialogs</p><script>alert('a'); confirm('c'); prompt('p');"
                       "addEventListener('beforeunload', e => { e.preventDefault();"
                       " e.returnValue = 'stay'; });"
                       "setTimeout(() => alert('later'), 100);</script>")
        elif p == "/attachment":
            self._send(200, "text/html", b"<p>save me</p>",
                       Content_Disposition='attachment; filename="x.html"')
        elif p == "/attachment.zip":
            self._send(200, "application/zip", b"PK\x05\x06" + bytes(18),
                       Content_Disposition='attachment; filename="x.zip"')
        elif p == "/downloads":
            self._page("<p>downloads</p><a id=a href='/attachment.zip' download>z</a>"
                       "<script>document.getElementById('a').click();"
                       "setTimeout(() => location.href = '/attachment', 50)</script>")
        elif p == "/never":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._trickle(b"<p>still loading</p>")
        elif p == "/longpoll":
            self._page("<p>poll</p><script>fetch('/poll')</script>")
        elif p == "/poll":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._trickle(b" ")
        elif p == "/images":
            imgs = "".join(f"<img src='/img?{i}'>" for i in range(2000))
            self._page(f"<p>many</p>{imgs}")
        elif p.startswith("/img?"):
            self._send(200, "image/png", PNG)
        elif p == "/iframes":
            self._page(f"<p>frames</p><iframe src='{self.server.other}/framed'></iframe>"  # type: ignore[attr-defined]
                       "<iframe src='data:text/html,<p>inline</p>'></iframe>")
        elif p == "/framed":
            self._page("<p>from another origin</p><img src='/img?framed'>")
        elif p == "/sockets":
            port = self.server.ws_port  # type: ignore[attr-defined]
            self._page("<p>sockets</p><script>"
                       f"try {{ new WebSocket('ws://127.0.0.1:{port}/ws'); }} catch (e) {{}}"
                       f"try {{ new WebSocket('wss://127.0.0.1:{port}/ws'); }} catch (e) {{}}"
                       "try { new EventSource('/events'); } catch (e) {}"
                       "</script>")
        elif p == "/events":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._trickle(b"data: tick\n\n")
        elif p == "/inline":
            self._page(f"<p>inline</p><img src='data:image/png;base64,{_b64(PNG)}'>"
                       "<img id=b><script>const u = URL.createObjectURL(new Blob(["
                       "'<svg xmlns=\"http://www.w3.org/2000/svg\"/>'], {type: 'image/svg+xml'}));"
                       "document.getElementById('b').src = u;"
                       "const f = document.createElement('iframe');"
                       "f.src = URL.createObjectURL(new Blob(['<p>blob frame</p>'],"
                       " {type: 'text/html'})); document.body.append(f);</script>")
        elif p == "/liar-long":
            self._send(200, "text/html", b"<p>short</p>", Content_Length="100000")
        elif p == "/liar-short":
            self._send(200, "text/html", b"<p>this body is longer than said</p>",
                       Content_Length="5")
        elif p == "/bomb":
            self._send(200, "text/html", BOMB, Content_Encoding="gzip")
        elif p == "/rawheader":
            body = b"<title>Header</title><p>odd headers</p>"
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                             b"Content-Disposition: inline; filename=\""
                             + "Київ".encode() + b".html\"\r\n"
                             b"X-Odd: \xff\xfe\x01\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        elif p == "/longtitle":
            self._page("<p>long title</p>", title="T" * 100_000)
        elif p == "/zimgs":
            self._page("<p>inflating</p>" + "".join(f"<img src='/zimg?{i}'>" for i in range(5)))
        elif p.startswith("/zimg?"):
            self._send(200, "image/png", gzip.compress(PNG + bytes(3 << 20) + p.encode()),
                       Content_Encoding="gzip")
        elif p == "/bomb-img":
            self._page("<p>bomb inside</p><img src='/bomb.png'>")
        elif p == "/bomb.png":
            self._send(200, "image/png", BOMB, Content_Encoding="gzip")
        elif p == "/badutf8":
            self._send(200, "text/html; charset=utf-8",
                       b"<title>bad \xff\xfe title \xed\xa0\x80</title><p>\xc3\x28 \x00 text</p>"
                       b"<script>document.title += '\\ud800'; document.body.append("
                       b"document.createTextNode('lone \\udc00 surrogate'))</script>")
        elif p == "/oddcharset":
            self._send(200, "text/html; charset=x-nonsense-42",
                       "<title>Київ</title><p>Привіт</p>".encode("koi8-u"))
        elif p == "/koi8":
            self._send(200, "text/html; charset=koi8-u",
                       "<title>Київ</title><p>Привіт</p>".encode("koi8-u"))
        elif p == "/secret":
            self._page("<p>behind a password</p>")
        elif p == "/slowpage":
            time.sleep(1.5)
            self._page("<p>slow but fine</p>", title="Slow")
        else:
            self._send(404, "text/html", b"<h1>Not here</h1>")

    def _trickle(self, chunk: bytes) -> None:
        try:
            for _ in range(600):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass
        self.close_connection = True


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


class Hostile:
    def __init__(self, url: str, other: str, ws_hits: list[bytes]) -> None:
        self.url = url
        self.other = other
        self.ws_hits = ws_hits


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile) for _ in range(2)]
    ws = socket.create_server(("127.0.0.1", 0))
    hits: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = ws.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                hits.append(conn.recv(1024))
            except OSError:
                hits.append(b"?")
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    other = f"http://localhost:{servers[1].server_port}"
    for srv in servers:
        srv.daemon_threads = True
        srv.other = other  # type: ignore[attr-defined]
        srv.ws_port = ws.getsockname()[1]  # type: ignore[attr-defined]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield Hostile(f"http://127.0.0.1:{servers[0].server_port}", other, hits)
    for srv in servers:
        srv.shutdown()
        srv.server_close()
    ws.close()


def _options(case: str, chromium: str, **limits: object) -> CaptureOptions:
    return CaptureOptions(
        case=case, collector="Olena K.",
        limits=Limits(**{"timeout": 30.0, **limits}),  # type: ignore[arg-type]
        chromium=chromium,
    )


def _entry(home: Home) -> dict[str, object]:
    (entry,) = [e.data for e in home.ledger.iter_entries() if e.type == "capture"]
    return entry


def _read(home: Home, report: object, role: str) -> bytes:
    obj = next(o for o in report.objects if o.role == role)  # type: ignore[attr-defined]
    with home.store.open_content(obj.object_id) as f:
        return bytes(f.read())


def _refused(home: Home, url: str, options: CaptureOptions, match: str,
             within: float = 40) -> None:
    size = home.ledger.size
    objects = sorted(p.name for p in (home.path / "store").iterdir())
    started = time.monotonic()
    with pytest.raises(CaptureError, match=match):
        capture(home, url, options, OPERATOR)
    assert time.monotonic() - started < within
    assert home.ledger.size == size
    assert sorted(p.name for p in (home.path / "store").iterdir()) == objects


def test_a_million_pixel_tall_page_gets_a_cut_screenshot(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    from PIL import Image

    from svidok.capture.browser import MAX_SHOT_HEIGHT

    home, case_id = case_home
    started = time.monotonic()
    report = capture(home, hostile.url + "/tall", _options(case_id, chromium), OPERATOR)
    assert time.monotonic() - started < 40
    shot = _read(home, report, "screenshot")
    assert len(shot) < 20 << 20
    import io

    with Image.open(io.BytesIO(shot)) as img:
        assert img.size == (1280, MAX_SHOT_HEIGHT)
    assert _entry(home)["cut"] == ["screenshot"]
    assert report.to_json()["cut"] == ["screenshot"]


def test_a_page_of_50_mb_of_text_ends_cleanly(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    """Chromium may not lay out 50 MB of text within the timeout: then the capture fails
    cleanly; when it does, the text and DOM are cut to their limits."""
    from svidok.capture.browser import MAX_DOM, MAX_TEXT

    home, case_id = case_home
    size = home.ledger.size
    started = time.monotonic()
    try:
        report = capture(home, hostile.url + "/bigtext",
                         _options(case_id, chromium, timeout=30.0), OPERATOR)
    except CaptureError as exc:
        assert "tim" in str(exc)
        assert home.ledger.size == size
    else:
        assert len(_read(home, report, "text")) <= MAX_TEXT
        assert len(_read(home, report, "rendered")) <= MAX_DOM
    assert time.monotonic() - started < 45


def test_page_text_and_dom_are_cut_at_their_limits(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from svidok.capture import browser

    monkeypatch.setattr(browser, "MAX_TEXT", 1_000)
    monkeypatch.setattr(browser, "MAX_DOM", 2_000)
    home, case_id = case_home
    report = capture(home, hostile.url + "/cyrillic", _options(case_id, chromium), OPERATOR)
    text = _read(home, report, "text")
    dom = _read(home, report, "rendered")
    assert 990 < len(text) <= 1_000 and text.startswith("Свідчення".encode())
    text.decode("utf-8")  # cut between characters
    assert 1_990 < len(dom) <= 2_000 and dom.startswith(b"<!DOCTYPE html>")
    dom.decode("utf-8")
    assert len(_read(home, report, "source")) > 30_000  # as served, whole
    assert _entry(home)["cut"] == ["rendered", "text"]
    assert report.fetched.cut == ["rendered", "text"]


@pytest.mark.parametrize("path", ["/jsloop", "/metaloop"])
def test_a_page_that_navigates_in_a_loop_is_captured_as_first_loaded(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str, path: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + path, _options(case_id, chromium), OPERATOR)
    f = report.fetched
    assert f.final_url == hostile.url + path and f.redirects == []
    assert f.requests < 10
    assert any("navigat" in why for _, why in f.skipped)


def test_a_history_flood_does_not_change_the_page(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + "/pushstate", _options(case_id, chromium), OPERATOR)
    assert report.fetched.final_url == hostile.url + "/pushstate"
    assert b"flood" in _read(home, report, "text")


def test_popups_are_not_followed_and_do_not_replace_the_page(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str, tmp_path: Path
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + "/popup", _options(case_id, chromium), OPERATOR)
    f = report.fetched
    assert (f.final_url, f.title) == (hostile.url + "/popup", "Hostile")
    assert b"opener" in _read(home, report, "source")
    wacz = tmp_path / "c.wacz"
    wacz.write_bytes(_read(home, report, "wacz"))
    assert not [u for _, u, _ in warc_records(wacz) if u and "popped" in u]


def test_dialogs_do_not_hang_the_capture(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    started = time.monotonic()
    report = capture(home, hostile.url + "/dialogs", _options(case_id, chromium), OPERATOR)
    assert time.monotonic() - started < 20
    assert b"dialogs" in _read(home, report, "text")


@pytest.mark.parametrize(("path", "media_type"),
                         [("/attachment", "text/html"), ("/attachment.zip", "application/zip")])
def test_a_download_as_the_page_is_captured_as_a_resource(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str, path: str, media_type: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + path, _options(case_id, chromium), OPERATOR)
    assert report.fetched.rendered is False
    roles = sorted(o.role for o in report.objects)
    assert roles == ["resource", "wacz"]
    res = next(o for o in report.objects if o.role == "resource")
    assert res.media_type == media_type and res.url == hostile.url + path
    assert _entry(home)["rendered"] is False


def test_downloads_from_the_page_are_not_followed(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + "/downloads", _options(case_id, chromium), OPERATOR)
    assert report.fetched.final_url == hostile.url + "/downloads"
    assert report.fetched.rendered is True
    assert b"downloads" in _read(home, report, "source")


@pytest.mark.parametrize("path", ["/never", "/longpoll"])
def test_a_page_that_never_finishes_ends_at_the_timeout(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str, path: str
) -> None:
    home, case_id = case_home
    _refused(home, hostile.url + path, _options(case_id, chromium, timeout=4.0),
             "tim", within=15)


def test_thousands_of_images_stop_at_the_request_limit(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from svidok.capture import browser

    monkeypatch.setattr(browser, "MAX_SKIPPED_KEPT", 300)  # all are counted, some kept
    home, case_id = case_home
    started = time.monotonic()
    report = capture(home, hostile.url + "/images",
                     _options(case_id, chromium, timeout=60.0, max_requests=50), OPERATOR)
    assert time.monotonic() - started < 60
    f = report.fetched
    assert f.requests == 50
    entry = _entry(home)
    assert entry["skipped_count"] == f.skipped_count >= 1950 - 50
    assert len(f.skipped) == 300
    assert len(entry["skipped"]) == 100  # type: ignore[arg-type]
    assert all("more than 50 requests" in s["reason"] for s in entry["skipped"])  # type: ignore[index,union-attr]
    media = {o.object_id for o in report.objects if o.role == "media"}
    assert len(media) == 1  # the same picture under 49 addresses: one object


def test_frames_from_another_origin_are_captured(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str, tmp_path: Path
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + "/iframes", _options(case_id, chromium), OPERATOR)
    assert report.fetched.final_url == hostile.url + "/iframes"
    wacz = tmp_path / "c.wacz"
    wacz.write_bytes(_read(home, report, "wacz"))
    urls = {u for kind, u, _ in warc_records(wacz) if kind == "response"}
    assert {hostile.other + "/framed", hostile.other + "/img?framed"} <= urls


def test_websockets_and_event_streams_do_not_reach_the_network(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    started = time.monotonic()
    report = capture(home, hostile.url + "/sockets", _options(case_id, chromium, timeout=20.0),
                     OPERATOR)
    assert time.monotonic() - started < 15
    assert hostile.ws_hits == []
    assert any(url.endswith("/events") for url, _ in report.fetched.skipped)


def test_data_and_blob_urls_inside_the_page(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + "/inline", _options(case_id, chromium), OPERATOR)
    assert b"inline" in _read(home, report, "text")
    assert all(o.url is None or o.url.startswith("http") for o in report.objects)


def test_a_lying_content_length_is_a_clean_failure_or_capture(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    _refused(home, hostile.url + "/liar-long", _options(case_id, chromium, timeout=5.0),
             "cannot read|tim", within=15)
    report = capture(home, hostile.url + "/liar-short", _options(case_id, chromium), OPERATOR)
    assert _read(home, report, "source") == b"<p>th"  # what the length said


def test_a_gzip_bomb_page_is_bounded_by_the_byte_limits(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    import resource

    home, case_id = case_home
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused(home, hostile.url + "/bomb", _options(case_id, chromium, max_response=10 << 20),
             "larger than the limit")
    report = capture(home, hostile.url + "/bomb-img",
                     _options(case_id, chromium, max_response=10 << 20), OPERATOR)
    ((url, why),) = report.fetched.skipped
    assert url.endswith("/bomb.png") and "larger than the limit" in why
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # kB
    assert grown < 150_000


def test_invalid_utf8_and_lone_surrogates(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + "/badutf8", _options(case_id, chromium), OPERATOR)
    text = _read(home, report, "text").decode("utf-8")  # valid UTF-8
    assert "lone" in text and "surrogate" in text
    _read(home, report, "rendered").decode("utf-8")
    title = _entry(home)["title"]
    assert isinstance(title, str) and title.startswith("bad")
    title.encode("utf-8")


@pytest.mark.parametrize("path", ["/oddcharset", "/koi8"])
def test_odd_charsets(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str, path: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + path, _options(case_id, chromium), OPERATOR)
    assert _read(home, report, "source") == "<title>Київ</title><p>Привіт</p>".encode("koi8-u")
    if path == "/koi8":
        assert report.fetched.title == "Київ"


def test_credentials_in_the_url_are_refused(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    url = hostile.url.replace("http://", "http://olena:s3cret@") + "/secret"
    _refused(home, url, _options(case_id, chromium), "user name or password")
    assert b"s3cret" not in (home.path / "ledger").read_bytes() if (
        home.path / "ledger").is_file() else True


def test_an_idn_host(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = socket.getaddrinfo
    port = int(hostile.url.rsplit(":", 1)[1])

    def resolve(host: object, *args: object, **kw: object) -> object:
        if isinstance(host, str | bytes) and "xn--" in str(host):
            host = "127.0.0.1"
        return real(host, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    home, case_id = case_home
    url = f"http://свідок.укр:{port}/secret"
    report = capture(home, url, _options(case_id, chromium), OPERATOR)
    f = report.fetched
    assert f.url == url
    assert f.final_url == f"http://{'свідок.укр'.encode('idna').decode()}:{port}/secret"
    assert b"behind a password" in _read(home, report, "source")


def test_two_captures_at_once_on_one_home(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, _ = case_home
    path = home.path
    home.close()
    cmd = [sys.executable, "-m", "svidok", "capture", "--case", "UA-CAP-1", "--home", str(path),
           "--json", "--timeout", "60"]
    runs = [subprocess.Popen([*cmd, hostile.url + page], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for page in ("/slowpage", "/iframes")]
    outs = [r.communicate(timeout=120) for r in runs]
    for run, (out, err) in zip(runs, outs, strict=True):
        assert run.returncode == 0, out + err
    entries = [json.loads(out)["entry"] for out, _ in outs]
    from svidok.verify import verify

    again = Home.open(path)
    try:
        captured = [e for e in again.ledger.iter_entries() if e.type == "capture"]
        assert sorted(e.index for e in captured) == sorted(entries)
        assert {e.data["url"] for e in captured} == {hostile.url + "/slowpage",
                                                     hostile.url + "/iframes"}
        assert verify(again).ok
    finally:
        again.close()


def test_a_script_that_never_returns_ends_at_the_timeout(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    """Reading the page (title, DOM, text) waits on its script; at the timeout (plus 5 s)
    Chromium and Playwright's driver are killed."""
    home, case_id = case_home
    _refused(home, hostile.url + "/busy", _options(case_id, chromium, timeout=6.0),
             "took longer than its timeout", within=25)


def test_what_decompression_adds_counts_against_the_byte_limit(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    """Five pictures of a few kilobytes that inflate to 3 MB each, within 8 MB in all: two
    fit, three are over the limit (without this, 200 such files could fill the disk)."""
    home, case_id = case_home
    report = capture(home, hostile.url + "/zimgs",
                     _options(case_id, chromium, max_bytes=8 << 20), OPERATOR)
    f = report.fetched
    assert f.bytes < 1 << 20
    assert len([o for o in report.objects if o.role == "media"]) == 2
    assert f.skipped_count == 3
    assert all("once decompressed" in why for _, why in f.skipped)


def test_headers_that_are_not_ascii(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    home, case_id = case_home
    report = capture(home, hostile.url + "/rawheader", _options(case_id, chromium), OPERATOR)
    assert report.fetched.title == "Header"
    assert b"odd headers" in _read(home, report, "text")


def test_a_long_title_is_cut_everywhere(
    case_home: tuple[Home, str], hostile: Hostile, chromium: str
) -> None:
    import io
    import zipfile

    home, case_id = case_home
    report = capture(home, hostile.url + "/longtitle", _options(case_id, chromium), OPERATOR)
    assert report.fetched.title == "T" * 1000
    with zipfile.ZipFile(io.BytesIO(_read(home, report, "wacz"))) as z:
        page = json.loads(z.read("pages/pages.jsonl").decode().splitlines()[1])
    assert page["title"] == "T" * 1000
