"""Browser tests: Playwright (sync API) driving the system's Chromium against a real uvicorn
server over a data home made for the session.

Nothing is downloaded: the browser is Debian's ``chromium`` (``$SVIDOK_CHROMIUM`` names
another), launched with its background network traffic switched off. Without a browser the
tests are skipped with the reason, except under CI (``CI=true``), where they fail.

Every page any test opens is watched: a console error, an uncaught script error or a
Content-Security-Policy violation fails the test that caused it (at its teardown). A test
that expects an HTTP error status (a refused password, a foreign case) says so with
``watch.expecting(401)``, which lets only Chromium's "Failed to load resource" line of that
status through.

People: ``alice`` owns case ALPHA-1, ``bob`` reviews it, ``mallory`` owns BRAVO-2 only,
``ada`` is an administrator without a case role (for the administration page).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest

from svidok.cases.access import Actor, Role
from svidok.home import Home

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"
CASE = "ALPHA-1"
FOREIGN = "BRAVO-2"
XSS_TITLE = "<img src=x onerror=window.__xss=1>"
BIDI_NAME = "invoice\u202egpj.exe"  # shows as "invoiceexe.jpg" if the override is obeyed
BIDI_TITLE = "statement\u202efdp.exe"  # an item title with the override itself in it
OPERATOR = Actor.operator("operator")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
#: records a CSP violation as a console error, which the watch then reports
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " in " + e.sourceFile + ":" + e.lineNumber);
}, true);
"""
_FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The screenshots are taken after the other browser tests (which add data to show)."""
    last = [i for i in items if "test_screenshots.py" in i.nodeid]
    if not last:
        return
    rest = [i for i in items if i not in last]
    browser = [n for n, i in enumerate(rest) if "web/browser/" in i.nodeid]
    at = browser[-1] + 1 if browser else len(rest)
    items[:] = [*rest[:at], *last, *rest[at:]]


def chromium_path() -> str | None:
    named = os.environ.get("SVIDOK_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def load_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_samples", ROOT / "examples" / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Site:
    base: str
    path: Path
    state: Any  # the server's ApiState
    users: dict[str, str]  # name -> user id
    case_id: str
    foreign_id: str
    items: dict[str, str]  # title -> record id (case ALPHA-1)
    sha256: dict[str, str]  # title -> SHA-256 of the original
    records: dict[str, str] = field(default_factory=dict)  # "incident"/"person"/... -> id
    foreign_item: str = ""

    def url(self, path: str) -> str:
        return self.base + path

    def actor(self, name: str) -> Actor:
        return Actor(name=name, user_id=self.users[name])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _populate(path: Path, tmp: Path) -> dict[str, Any]:
    """Users, two cases, sample evidence with EXIF/GPS, an incident, a person, a place."""
    from svidok.auth.store import AuthStore
    from svidok.cases.service import open_casework
    from svidok.intake.ingest import IngestOptions, ingest
    from svidok.textsafe import escape_bytes

    samples = load_samples()
    src = tmp / "samples"
    src.mkdir()
    files = [
        samples.make_jpeg(
            src / name, seed=seed, size=(640, 480), gps=gps, when=when, make=make, model=model
        )
        for name, seed, gps, when, make, model in samples.PHOTOS
    ]
    files.append(samples.make_pdf(src / str(samples.PDF["name"])))
    files.append(samples.make_transcript(src / samples.TRANSCRIPT))
    if importlib.util.find_spec("av") is not None:
        files.append(samples.make_video(src / str(samples.VIDEO["name"])))
    bidi = src / BIDI_NAME
    bidi.write_bytes(b"Not a program: a text file with a misleading name.\n")
    files.append(bidi)
    foreign_file = tmp / "bravo-photo.jpg"
    samples.make_jpeg(foreign_file, seed=99, size=(320, 240))

    out: dict[str, Any] = {"items": {}, "sha256": {}, "records": {}}
    with Home.open(path) as home:
        work = open_casework(home)
        auth = AuthStore.for_home(path)
        try:
            auth.migrate()
            users = {
                name: work.add_user(OPERATOR, name, name.title(), admin=name == "ada").id
                for name in ("alice", "bob", "mallory", "ada")
            }
            for user in users.values():
                auth.set_password(UUID(user), PASSWORD)
        finally:
            auth.close()
        alice = Actor(name="alice", user_id=users["alice"])
        case = work.create_case(
            OPERATOR,
            {
                "reference": CASE,
                "title": "Shelling of Yablunska Street",
                "description": "Sample case made by the browser tests (fictional).",
            },
        ).id
        foreign = work.create_case(OPERATOR, {"reference": FOREIGN, "title": "Another team"}).id
        work.grant(OPERATOR, case, users["alice"], Role.OWNER)
        work.grant(OPERATOR, case, users["bob"], Role.REVIEWER)
        work.grant(OPERATOR, foreign, users["mallory"], Role.OWNER)

        report = ingest(
            home,
            [os.fsencode(p) for p in files],
            IngestOptions(case=case, collector="alice", source="browser tests"),
        )
        received = []
        for outcome in report.outcomes:
            obj = outcome.object_id
            assert outcome.ok and obj is not None, outcome
            name = escape_bytes(outcome.path.rpartition(b"/")[2])
            received.append((obj, name))
            out["sha256"][name] = obj.removeprefix("sha256:")
        made = work.add_intake_items(alice, case, received)
        for (_, name), record in zip(received, made, strict=True):
            out["items"][name] = record
        out["items"][XSS_TITLE] = work.create(
            alice,
            case,
            "item",
            {
                "title": XSS_TITLE,
                "description": XSS_TITLE,
                "item_kind": "other",
                "tags": ["xss-probe"],
            },
        ).id
        out["items"][BIDI_TITLE] = work.create(
            alice,
            case,
            "item",
            {
                "title": BIDI_TITLE,
                "item_kind": "document",
            },
        ).id

        place = work.create(
            alice,
            case,
            "place",
            {
                "name": "Yablunska St., Bucha",
                "lat": 50.5436,
                "lon": 30.2171,
                "admin_area": "Kyiv Oblast, Bucha Raion",
            },
        ).id
        incident = work.create(
            alice,
            case,
            "incident",
            {
                "title": "Shelling of a residential street",
                "description": "Fictional incident for the browser tests.",
                "time": {"start": "2022-03-05T09:00:00+02:00", "precision": "hour"},
                "places": [place],
            },
        ).id
        person = work.create(
            alice,
            case,
            "person",
            {
                "names": [{"value": "Witness W-1", "kind": "pseudonym"}],
                "sex": "female",
                "age": 54,
                "status": "displaced",
                "legal_name": "Protected Name",
                "description": "Lives near the street.",
            },
        ).id
        xss_incident = work.create(
            alice,
            case,
            "incident",
            {
                "title": XSS_TITLE,
                "description": XSS_TITLE,
                "time": {"start": "2022-03-07T12:00:00+02:00", "precision": "day"},
                "places": [place],
            },
        ).id
        xss_person = work.create(
            alice,
            case,
            "person",
            {
                "names": [{"value": XSS_TITLE, "kind": "pseudonym"}],
                "description": XSS_TITLE,
            },
        ).id
        work.link(alice, case, "item-incident", out["items"][XSS_TITLE], xss_incident, XSS_TITLE)
        street = out["items"]["bucha-street.jpg"]
        work.link(alice, case, "item-incident", street, incident, "shows the damage")
        work.assess(
            alice,
            case,
            out["items"]["irpin-bridge.jpg"],
            "in review",
            "Capture time and place agree with the incident report.",
        )
        out["records"] = {
            "incident": incident,
            "person": person,
            "place": place,
            "xss-incident": xss_incident,
            "xss-person": xss_person,
        }

        report = ingest(
            home, [os.fsencode(foreign_file)], IngestOptions(case=foreign, collector="mallory")
        )
        obj = report.outcomes[0].object_id
        assert obj is not None
        mallory = Actor(name="mallory", user_id=users["mallory"])
        out["foreign_item"] = work.add_intake_items(mallory, foreign, [(obj, "bravo-photo.jpg")])[0]
        out.update(users=users, case_id=case, foreign_id=foreign)
    return out


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        _missing("no Chromium: install Debian's chromium package (or set $SVIDOK_CHROMIUM)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from svidok.api import create_app

    tmp = tmp_path_factory.mktemp("browser")
    path = tmp / "home"
    Home.init(path, origin="svidok.test/browser", actor="tester")
    made = _populate(path, tmp)
    staging = tmp / "staging"
    staging.mkdir()
    app = create_app(path, secure_cookies=False, staging_dir=staging)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web server did not start")
        time.sleep(0.02)
    try:
        yield Site(
            base=f"http://127.0.0.1:{port}",
            path=path,
            state=app.state.svidok,
            users=made["users"],
            case_id=made["case_id"],
            foreign_id=made["foreign_id"],
            items=made["items"],
            sha256=made["sha256"],
            records=made["records"],
            foreign_item=made["foreign_item"],
        )
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        except Exception as exc:  # a browser that does not start is a missing browser
            _missing(f"Chromium at {chromium} did not start: {exc}")
        try:
            yield launched
        finally:
            launched.close()


class Watch:
    """Console errors, uncaught script errors and CSP violations of every watched page."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.allowed: set[int] = set()

    def attach(self, page: Any) -> None:
        page.on("console", lambda msg: self._console(page, msg))
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: script error: {exc}"))

    def _console(self, page: Any, msg: Any) -> None:
        if msg.type not in ("error", "assert"):
            return
        failed = _FAILED_LOAD.match(msg.text)
        if failed and int(failed.group(1)) in self.allowed:
            return
        where = msg.location.get("url") or page.url
        self.problems.append(f"{where}: console {msg.type}: {msg.text}")

    @contextmanager
    def expecting(self, *statuses: int) -> Iterator[None]:
        """Within: the browser's report of a response with one of these statuses is no
        problem (the test asserts on the page instead)."""
        before = set(self.allowed)
        self.allowed |= set(statuses)
        try:
            yield
        finally:
            self.allowed = before

    def take(self) -> list[str]:
        found, self.problems = self.problems, []
        return found


@dataclass
class Browse:
    """Opens signed-in (or anonymous) browser contexts for a test; closes them after it."""

    browser: Any
    site: Site
    watch: Watch
    contexts: list[Any] = field(default_factory=list)

    def context(self, viewport: tuple[int, int] = (1280, 800), **options: Any) -> Any:
        context = self.browser.new_context(
            base_url=self.site.base,
            viewport={"width": viewport[0], "height": viewport[1]},
            locale="en-US",
            timezone_id="UTC",
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(CSP_LISTENER)
        context.on("page", self.watch.attach)
        self.contexts.append(context)
        return context

    def page(self, user: str | None = None, viewport: tuple[int, int] = (1280, 800)) -> Any:
        """A new page, signed in as ``user`` through the sign-in form (None: signed out)."""
        page = self.context(viewport).new_page()
        if user is not None:
            sign_in(page, user)
            page.wait_for_url("**/cases")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def sign_in(page: Any, user: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture()
def watch() -> Watch:
    return Watch()


@pytest.fixture()
def browse(browser: Any, site: Site, watch: Watch) -> Iterator[Browse]:
    opened = Browse(browser, site, watch)
    try:
        yield opened
    finally:
        opened.close()
    problems = watch.take()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


def status_of(page: Any, path: str) -> int:
    """The HTTP status of ``path`` fetched with the page's cookies (nothing rendered)."""
    response = page.request.get(path, max_redirects=0)
    status = int(response.status)
    response.dispose()
    return status
