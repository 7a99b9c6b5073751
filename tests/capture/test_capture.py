"""Web captures end to end: a local server, Debian's Chromium, the store and the ledger."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capture.capture_kit import (
    AUDIO,
    OPERATOR,
    PDF,
    PNG,
    PNG_DIRECT,
    VIDEO,
    Site,
    validate_wacz,
    warc_records,
)
from svidok.capture import CaptureOptions, Limits, capture
from svidok.capture.fetch import check_url
from svidok.cli import app
from svidok.errors import CaptureError
from svidok.home import Home
from svidok.verify import verify


def _options(case: str, chromium: str, **limits: object) -> CaptureOptions:
    return CaptureOptions(
        case=case, collector="Olena K.", note="seen on 5 Dec",
        limits=Limits(**{"timeout": 30.0, **limits}),  # type: ignore[arg-type]
        chromium=chromium,
    )


def _capture_entries(home: Home) -> list[dict[str, object]]:
    return [e.data for e in home.ledger.iter_entries() if e.type == "capture"]


def _wacz_of(home: Home, report_objects: list[object], tmp_path: Path) -> Path:
    obj = next(o for o in report_objects if o.role == "wacz")  # type: ignore[attr-defined]
    path = tmp_path / "capture.wacz"
    path.write_bytes(_read_object(home, obj.object_id))  # type: ignore[attr-defined]
    return path


def _read_object(home: Home, object_id: str) -> bytes:
    with home.store.open_content(object_id) as f:
        return f.read()


def test_a_page_with_images_video_css_and_js(
    case_home: tuple[Home, str], site: Site, chromium: str, tmp_path: Path
) -> None:
    home, case_id = case_home
    report = capture(home, site.http + "/", _options(case_id, chromium), OPERATOR)
    f = report.fetched
    assert (f.status, f.final_url, f.redirects, f.title) == (
        200, site.http + "/", [], "Bucha report")
    roles = sorted(o.role for o in report.objects)
    assert roles == ["media", "media", "media", "rendered", "screenshot", "source", "text",
                     "wacz"]
    media = {o.url: o for o in report.objects if o.role == "media"}
    # the 1x1 GIF is under the floor; the redirected image is the same bytes as photo.png
    assert set(media) == {site.http + "/photo.png", site.http + "/clip.webm",
                          site.http + "/voice.mp3"}
    assert media[site.http + "/photo.png"].size == len(PNG)
    assert media[site.http + "/clip.webm"].size == len(VIDEO)
    assert media[site.http + "/voice.mp3"].size == len(AUDIO)
    text = next(o for o in report.objects if o.role == "text")
    assert text.media_type == "text/plain"
    body = _read_object(home, text.object_id).decode("utf-8")
    assert "Report from the street" in body and "Written by script." in body  # JS ran
    shot = next(o for o in report.objects if o.role == "screenshot")
    assert _read_object(home, shot.object_id)[:8] == b"\x89PNG\r\n\x1a\n"
    source = next(o for o in report.objects if o.role == "source")
    assert b"Static paragraph." in _read_object(home, source.object_id)  # as served
    rendered = next(o for o in report.objects if o.role == "rendered")
    assert b"Written by script." in _read_object(home, rendered.object_id)  # the DOM
    assert len(report.items) == len({o.object_id for o in report.objects})

    wacz = _wacz_of(home, report.objects, tmp_path)
    validate_wacz(wacz)
    records = warc_records(wacz)
    responses = {uri: status for kind, uri, status in records if kind == "response"}
    for path in ("/", "/style.css", "/app.js", "/photo.png", "/pixel.gif", "/clip.webm"):
        assert site.http + path in responses
    assert responses[site.http + "/hop-img"] == 302
    requests = [uri for kind, uri, _ in records if kind == "request"]
    assert sorted(requests) == sorted(u for k, u, _ in records if k == "response")
    with zipfile.ZipFile(wacz) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        pages = z.read("pages/pages.jsonl").decode().splitlines()
        assert json.loads(pages[1])["url"] == site.http + "/"

    (entry,) = _capture_entries(home)
    assert entry["url"] == site.http + "/" and entry["status"] == 200
    assert entry["case"] == case_id and entry["collector"] == "Olena K."
    assert entry["tls"] is None
    tools = entry["tools"]
    assert isinstance(tools, dict) and tools["chromium"] and tools["playwright"]
    assert {o["object"] for o in entry["objects"]} == {  # type: ignore[union-attr]
        o.object_id for o in report.objects}
    assert entry["started"] < entry["ended"]  # type: ignore[operator]
    agent = str(entry["user_agent"])
    assert f"Chrome/{tools['chromium']}" in agent
    assert "Headless" not in agent and "Svidok" not in agent  # the site cannot tell
    from svidok.cases.service import open_casework

    activity = open_casework(home).activity(OPERATOR, case_id, limit=100)
    assert "capture" in {h.type for h in activity}  # in the case's recent activity
    # every object is accounted for: acquisitions name the URL as their source; the
    # catalog equals a fresh projection of the ledger
    assert verify(home).ok
    with home.catalog.engine.connect() as conn:
        from sqlalchemy import select

        from svidok.catalog import schema as s
        sources = set(conn.execute(select(s.acquisitions.c.source)).scalars())
    assert sources == {site.http + "/"}


def test_a_captured_home_passes_the_independent_verifier(
    case_home: tuple[Home, str], site: Site, chromium: str
) -> None:
    """examples/independent_verify.py (no Svidok code) accounts for every object a capture
    stored, and knows the capture entry."""
    import subprocess
    import sys

    home, case_id = case_home
    capture(home, site.http + "/", _options(case_id, chromium), OPERATOR)
    path = home.path
    home.close()
    script = Path(__file__).resolve().parents[2] / "examples" / "independent_verify.py"
    run = subprocess.run([sys.executable, str(script), str(path)], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.rstrip().endswith("OK") and "store: 8 objects" in run.stdout


def test_a_redirect_chain_is_followed_and_recorded(
    case_home: tuple[Home, str], site: Site, chromium: str
) -> None:
    home, case_id = case_home
    report = capture(home, site.http + "/r1", _options(case_id, chromium), OPERATOR)
    assert report.fetched.redirects == [
        (site.http + "/r1", 302), (site.http + "/r2", 301), (site.http + "/r3", 302)]
    assert report.fetched.final_url == site.http + "/"
    (entry,) = _capture_entries(home)
    assert [r["url"] for r in entry["redirects"]] == [  # type: ignore[index,union-attr]
        site.http + "/r1", site.http + "/r2", site.http + "/r3"]
    assert entry["final_url"] == site.http + "/"


@pytest.mark.parametrize(
    ("path", "limits", "message"),
    [
        ("/loop-a", {}, "redirect loop"),
        ("/r1", {"max_redirects": 1}, "more than 1 redirects"),
        ("/slow", {"timeout": 2.0}, "tim"),
        ("/huge", {"max_bytes": 1 << 20}, "limit"),
        ("/huge", {"max_response": 1 << 20}, "larger than the limit"),
    ],
)
def test_failures_are_clean_and_store_nothing(
    case_home: tuple[Home, str], site: Site, chromium: str,
    path: str, limits: dict[str, object], message: str,
) -> None:
    home, case_id = case_home
    size = home.ledger.size
    objects = sorted(p.name for p in (home.path / "store").iterdir())
    started = time.monotonic()
    with pytest.raises(CaptureError, match=message):
        capture(home, site.http + path, _options(case_id, chromium, **limits), OPERATOR)
    assert time.monotonic() - started < 25
    assert home.ledger.size == size
    assert sorted(p.name for p in (home.path / "store").iterdir()) == objects


def test_a_404_page_is_captured_with_its_status(
    case_home: tuple[Home, str], site: Site, chromium: str, tmp_path: Path
) -> None:
    home, case_id = case_home
    report = capture(home, site.http + "/gone", _options(case_id, chromium), OPERATOR)
    assert report.fetched.status == 404
    assert _capture_entries(home)[0]["status"] == 404
    validate_wacz(_wacz_of(home, report.objects, tmp_path))


@pytest.mark.parametrize(("path", "data", "media_type"),
                         [("/doc.pdf", PDF, "application/pdf"),
                          ("/pic.png", PNG_DIRECT, "image/png")])
def test_a_file_url_is_captured_as_a_resource(
    case_home: tuple[Home, str], site: Site, chromium: str, tmp_path: Path,
    path: str, data: bytes, media_type: str,
) -> None:
    home, case_id = case_home
    report = capture(home, site.http + path, _options(case_id, chromium), OPERATOR)
    resource = next(o for o in report.objects if o.role == "resource")
    assert resource.media_type == media_type and resource.url == site.http + path
    assert _read_object(home, resource.object_id) == data
    wacz = _wacz_of(home, report.objects, tmp_path)
    validate_wacz(wacz)
    assert (("response", site.http + path, 200) in warc_records(wacz))


def test_https_with_an_untrusted_certificate(
    case_home: tuple[Home, str], site: Site, chromium: str, tmp_path: Path
) -> None:
    home, case_id = case_home
    size = home.ledger.size
    with pytest.raises(CaptureError, match=r"not trusted.*--allow-untrusted"):
        capture(home, site.https + "/", _options(case_id, chromium), OPERATOR)
    assert home.ledger.size == size
    report = capture(home, site.https + "/", _options(case_id, chromium, allow_untrusted=True),
                     OPERATOR)
    cert = report.fetched.certificate
    assert cert is not None
    assert (cert.sha256, cert.trusted, cert.serial) == (site.cert_sha256, False, "5e1d0c")
    assert "svidok-test.local" in cert.subject and cert.error
    (entry,) = _capture_entries(home)
    tls = entry["tls"]
    assert isinstance(tls, dict) and tls["sha256"] == site.cert_sha256
    assert tls["trusted"] is False and tls["tls_version"]
    chain = tls["chain"]
    assert isinstance(chain, list) and [c["sha256"] for c in chain] == [site.cert_sha256]
    validate_wacz(_wacz_of(home, report.objects, tmp_path))


def test_https_with_a_trusted_certificate_records_the_verified_chain(
    case_home: tuple[Home, str], site: Site, chromium: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, case_id = case_home
    monkeypatch.setenv("SSL_CERT_FILE", str(site.ca_file))  # OpenSSL's default trust store
    report = capture(home, site.https_ca + "/", _options(case_id, chromium), OPERATOR)
    cert = report.fetched.certificate
    assert cert is not None and cert.trusted and cert.error is None
    assert (cert.sha256, cert.serial, cert.issuer) == (site.leaf_sha256, "c0ffee",
                                                      "CN=Svidok Test CA")
    assert [c["sha256"] for c in cert.chain] == [site.leaf_sha256, site.ca_sha256]
    (entry,) = _capture_entries(home)
    tls = entry["tls"]
    assert isinstance(tls, dict) and tls["trusted"] is True
    assert len(tls["chain"]) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,<p>x</p>",
     "http://example.org/" + "a" * 9000, "ftp://example.org/x", "http:///nohost",
     "http://exa mple.org/", "not a url", ""],
)
def test_hostile_urls_are_refused(url: str) -> None:
    with pytest.raises(CaptureError):
        check_url(url)


def test_private_addresses_can_be_refused(
    case_home: tuple[Home, str], site: Site, chromium: str
) -> None:
    home, case_id = case_home
    with pytest.raises(CaptureError, match="private or reserved"):
        capture(home, site.http + "/", _options(case_id, chromium, block_private=True), OPERATOR)


def test_no_such_case(home: Home, site: Site, chromium: str) -> None:
    with pytest.raises(CaptureError, match="no such case"):
        capture(home, site.http + "/", _options("NOPE-1", chromium), OPERATOR)


def test_cli_capture(
    case_home: tuple[Home, str], site: Site, chromium: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, case_id = case_home
    path = home.path
    home.close()
    runner = CliRunner()
    result = runner.invoke(app, ["capture", site.http + "/", "--case", "UA-CAP-1",
                                 "--collector", "Olena K.", "--note", "n", "--timeout", "30",
                                 "--max-bytes", "50000000", "--home", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == 200 and data["case"] == case_id and len(data["objects"]) == 8
    for option, value in (("--timeout", "-1"), ("--max-bytes", "0")):
        wrong = runner.invoke(app, ["capture", site.http + "/", "--case", "UA-CAP-1",
                                    option, value, "--home", str(path)])
        assert wrong.exit_code == 2, wrong.output
        assert "must be" in wrong.output and "Traceback" not in wrong.output
    bad = runner.invoke(app, ["capture", "file:///etc/passwd", "--case", "UA-CAP-1",
                              "--home", str(path)])
    assert bad.exit_code == 2 and "only http and https" in bad.output
    loop = runner.invoke(app, ["capture", site.http + "/loop-a", "--case", "UA-CAP-1",
                               "--home", str(path)])
    assert loop.exit_code == 2 and "redirect loop" in loop.output


def test_an_oversized_picture_is_left_out_and_named(
    case_home: tuple[Home, str], site: Site, chromium: str
) -> None:
    home, case_id = case_home
    report = capture(home, site.http + "/big-picture",
                     _options(case_id, chromium, max_response=1 << 20), OPERATOR)
    assert [o.role for o in report.objects if o.role == "media"] == []
    ((url, why),) = report.fetched.skipped
    assert url == site.http + "/big.png" and "larger than the limit" in why
    (entry,) = _capture_entries(home)
    assert entry["skipped_count"] == 1
    assert entry["skipped"] == [{"url": site.http + "/big.png", "reason": why}]


def test_a_missing_browser_is_a_clean_failure(case_home: tuple[Home, str], site: Site) -> None:
    home, case_id = case_home
    size = home.ledger.size
    with pytest.raises(CaptureError, match="did not start"):
        capture(home, site.http + "/", _options(case_id, "/nonexistent/chromium"), OPERATOR)
    assert home.ledger.size == size


def test_chromium_sandbox_is_used_unless_root_or_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from svidok.capture import browser

    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    assert browser.sandbox_used(True) is True
    assert browser.sandbox_used(False) is False
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    assert browser.sandbox_used(True) is False


@pytest.mark.parametrize("key", ["sandbox", "block_private"])
def test_capture_switches_must_be_booleans(home_path: Path, key: str) -> None:
    from svidok.errors import ConfigError
    from svidok.home import Home

    toml = home_path / "svidok.toml"
    text = toml.read_text()
    assert f"\n{key} = " in text  # written by init, so a user finds it
    toml.write_text(text.replace(f"\n{key} = ", f'\n{key} = "yes"\n# {key} = ', 1))
    with pytest.raises(ConfigError, match=rf"capture\.{key} must be true or false"):
        Home.open(home_path)
