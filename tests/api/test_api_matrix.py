"""The authorization matrix, generated from the route table: every route x every role x
own case / foreign case / anonymous, with API tokens; and, for the routes of one's own
account (``/me``), a browser session of a fresh user too. A route missing from
``EXPECTED`` fails the suite."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from svidok.api import create_app
from svidok.api.app import PREFIX, route_table
from svidok.api.deps import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from svidok.api.records import COLLECTIONS
from svidok.api.uploads import OFFSET_MEDIA_TYPE, UploadStore, staging_root
from svidok.auth import tokens, totp
from svidok.cases.access import Role
from svidok.home import Home

from .conftest import MINIMAL, OPERATOR, PASSWORD, PEOPLE, ROLES, CaseIds, World, error_code

ALL = frozenset(ROLES)
EDIT = frozenset({"owner", "investigator"})
ASSESS = frozenset({"owner", "reviewer"})
ANNOTATE = frozenset({"owner", "investigator", "reviewer", "analyst"})
MANAGE = frozenset({"owner"})
NOBODY: frozenset[str] = frozenset()  # administrators only
SESSION_ONLY = NOBODY  # one's own account, but never with an API token: 403

# (world, the case's ids, the acting role) -> request: path values, json, content, params
Prepare = Callable[[World, CaseIds, str], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]  # roles allowed on their own case (with an API token)
    prepare: Prepare
    public: bool = False  # anonymous callers allowed (signing in)
    # one's own account: also allowed in a browser session of a fresh user, whose name
    # this prepares the request for (instead of a role); refused without the CSRF token
    session: Prepare | None = None


def _same(**values: Any) -> Prepare:
    return lambda w, c, role: dict(values)


def _case_only(w: World, c: CaseIds, role: str) -> dict[str, Any]:
    return {}


def _record(kind: str) -> Prepare:
    return lambda w, c, role: {"record": c.records[kind]}


def _fresh(kind: str, **extra: Any) -> Prepare:
    return lambda w, c, role: {"record": w.fresh_record(c.id, kind), **extra}


def _new_member(w: World, c: CaseIds, role: str) -> dict[str, Any]:
    user = w.work.add_user(OPERATOR, w.unique("member"), "Member", admin=False).id
    w.work.grant(OPERATOR, c.id, user, Role.VIEWER)
    return {"user": user}


def _new_link(w: World, c: CaseIds, role: str) -> dict[str, Any]:
    link = w.work.link(OPERATOR, c.id, "item-incident", c.records["item"], c.records["incident"])
    return {"link": link.id}


_pages: list[str] = []


def _page_url() -> str:
    """A page on a local server, for web captures (started once, never stopped)."""
    if not _pages:
        import http.server
        import threading

        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "13")
                self.end_headers()
                self.wfile.write(b"<p>a page</p>")

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _pages.append(f"http://127.0.0.1:{server.server_port}/")
    return _pages[0]


def _login(w: World, c: CaseIds, role: str) -> dict[str, Any]:
    name = PEOPLE.get(role, "olena")
    return {"json": {"username": name, "password": PASSWORD}}


def _users_post(w: World, c: CaseIds, role: str) -> dict[str, Any]:
    return {"json": {"username": w.unique("user"), "password": PASSWORD}}


def _cases_post(w: World, c: CaseIds, role: str) -> dict[str, Any]:
    return {"json": {"reference": w.unique("NEW-"), "title": "New case"}}


NEW_PASSWORD = "another horse, another staple"


def _uid(w: World, who: str) -> UUID:
    """The user acting: a role's person, or a fresh user named ``who``."""
    return UUID(w.users[PEOPLE.get(who, who)])


def _totp_pending(w: World, c: CaseIds, who: str) -> dict[str, Any]:
    started = w.auth.enable_totp(_uid(w, who), account=who)
    return {"json": {"code": totp.code_at(started.secret, datetime.now(UTC))}}


def _totp_on(w: World, c: CaseIds, who: str) -> dict[str, Any]:
    code = _totp_pending(w, c, who)["json"]["code"]
    w.auth.confirm_totp(_uid(w, who), code)
    return {"json": {"password": PASSWORD}}


def _token_of(w: World, c: CaseIds, who: str) -> dict[str, Any]:
    """Another token of the acting user (recorded in the ledger)."""
    return {"token_id": tokens.parse(w.token(PEOPLE.get(who, who))).token_id}


_PASSWORD_CHANGE = _same(json={"current": PASSWORD, "new": NEW_PASSWORD})
TUS = {"Tus-Resumable": "1.0.0"}
_META = "filename YS5iaW4="  # a.bin


def _upload(**extra: Any) -> Prepare:
    """An upload of 100 bytes made by the acting user (only its creator may touch it)."""

    def prepare(w: World, c: CaseIds, who: str) -> dict[str, Any]:
        store = UploadStore(staging_root(w.home_path / "work", None))
        now = datetime.now(UTC)
        info = store.create(str(_uid(w, who)), c.id, 100, "a.bin", None, "other", now)
        return {"upload": info.id, "headers": TUS, **extra}

    return prepare


_TUS_PATCH = {**TUS, "Content-Type": OFFSET_MEDIA_TYPE, "Upload-Offset": "0"}

V = PREFIX
EXPECTED: dict[str, Rule] = {
    f"POST {V}/session": Rule(ALL, _login, public=True),
    f"DELETE {V}/session": Rule(ALL, _same()),
    f"GET {V}/me": Rule(ALL, _same(), session=_same()),
    f"POST {V}/me/totp": Rule(
        SESSION_ONLY, _same(json={"password": PASSWORD}), session=_same(json={"password": PASSWORD})
    ),
    f"POST {V}/me/totp/confirm": Rule(
        SESSION_ONLY, _same(json={"code": "123456"}), session=_totp_pending
    ),
    f"DELETE {V}/me/totp": Rule(SESSION_ONLY, _same(json={"password": PASSWORD}), session=_totp_on),
    f"PUT {V}/me/password": Rule(SESSION_ONLY, _PASSWORD_CHANGE, session=_PASSWORD_CHANGE),
    f"GET {V}/me/tokens": Rule(ALL, _same(), session=_same()),
    f"POST {V}/me/tokens": Rule(
        SESSION_ONLY, _same(json={"days": 1}), session=_same(json={"days": 1})
    ),
    # with a token: another token of the same user (a token may revoke only itself)
    f"DELETE {V}/me/tokens/{{token_id}}": Rule(SESSION_ONLY, _token_of, session=_token_of),
    f"GET {V}/cases": Rule(ALL, _same()),
    f"POST {V}/cases": Rule(ALL, _cases_post),
    f"GET {V}/cases/{{case}}": Rule(ALL, _case_only),
    f"PATCH {V}/cases/{{case}}": Rule(MANAGE, _same(json={"changes": {"description": "d"}})),
    f"GET {V}/cases/{{case}}/members": Rule(ALL, _case_only),
    f"GET {V}/cases/{{case}}/members/{{user}}": Rule(ALL, lambda w, c, r: {"user": c.owner}),
    f"PUT {V}/cases/{{case}}/members/{{user}}": Rule(
        MANAGE, lambda w, c, r: {**_new_member(w, c, r), "json": {"role": "analyst"}}
    ),
    f"DELETE {V}/cases/{{case}}/members/{{user}}": Rule(MANAGE, _new_member),
    f"GET {V}/users": Rule(NOBODY, _same()),
    f"POST {V}/users": Rule(NOBODY, _users_post),
    f"GET {V}/users/{{user}}": Rule(NOBODY, lambda w, c, r: {"user": c.owner}),
    f"PATCH {V}/users/{{user}}": Rule(
        NOBODY, lambda w, c, r: {"user": c.owner, "json": {"display_name": "Renamed"}}
    ),
    f"PUT {V}/users/{{user}}/password": Rule(
        NOBODY, lambda w, c, r: {"user": c.owner, "json": {"password": PASSWORD}}
    ),
    f"GET {V}/cases/{{case}}/links": Rule(ALL, _case_only),
    f"POST {V}/cases/{{case}}/links": Rule(
        ANNOTATE,
        lambda w, c, r: {
            "json": {
                "kind": "item-incident",
                "from_id": c.records["item"],
                "to_id": c.records["incident"],
            }
        },
    ),
    f"DELETE {V}/cases/{{case}}/links/{{link}}": Rule(ANNOTATE, _new_link),
    f"POST {V}/cases/{{case}}/items/upload": Rule(
        EDIT, lambda w, c, r: {"params": {"filename": "a.bin"}, "content": os.urandom(100)}
    ),
    f"GET {V}/cases/{{case}}/items/{{record}}/original": Rule(
        ALL, lambda w, c, r: {"record": c.evidence}
    ),
    f"GET {V}/cases/{{case}}/items/{{record}}/receipt": Rule(
        ALL, lambda w, c, r: {"record": c.evidence}
    ),
    f"GET {V}/cases/{{case}}/items/{{record}}/metadata": Rule(
        ALL, lambda w, c, r: {"record": c.evidence}
    ),
    f"POST {V}/cases/{{case}}/exports": Rule(
        EDIT, _same(json={"recipient": "court", "purpose": "trial"})
    ),
    f"POST {V}/cases/{{case}}/captures": Rule(
        EDIT, lambda w, c, r: {"json": {"url": _page_url(), "timeout": 30}}
    ),
    f"OPTIONS {V}/uploads": Rule(ALL, _same()),
    f"POST {V}/cases/{{case}}/uploads": Rule(
        EDIT, _same(headers={**TUS, "Upload-Length": "100", "Upload-Metadata": _META})
    ),
    f"HEAD {V}/cases/{{case}}/uploads/{{upload}}": Rule(EDIT, _upload()),
    f"GET {V}/cases/{{case}}/uploads/{{upload}}": Rule(EDIT, _upload()),
    f"PATCH {V}/cases/{{case}}/uploads/{{upload}}": Rule(
        EDIT, _upload(headers=_TUS_PATCH, content=os.urandom(100))
    ),
    f"DELETE {V}/cases/{{case}}/uploads/{{upload}}": Rule(EDIT, _upload()),
    f"GET {V}/cases/{{case}}/duplicates": Rule(ALL, _case_only),
    f"GET {V}/cases/{{case}}/items/{{record}}/duplicates": Rule(
        ALL, lambda w, c, r: {"record": c.evidence}
    ),
    f"POST {V}/cases/{{case}}/duplicates/decisions": Rule(
        ANNOTATE,
        lambda w, c, r: {
            "json": {"a": c.evidence, "b": c.records["item"], "decision": "rejected"}
        },
    ),
    f"GET {V}/ledger/checkpoint": Rule(ALL, _same()),
    f"GET {V}/ledger/verify": Rule(ALL, _same()),
    f"GET {V}/ledger/entries/{{index}}/receipt": Rule(ALL, lambda w, c, r: {"index": c.entry}),
    f"GET {V}/search": Rule(
        ALL, _same(params={"q": "Bucha"}), session=_same(params={"q": "Bucha"})
    ),
}
for _segment, _kind in COLLECTIONS.items():
    _base = f"{V}/cases/{{case}}/{_segment}"
    EXPECTED |= {
        f"GET {_base}": Rule(ALL, _case_only),
        f"POST {_base}": Rule(EDIT, _same(json=MINIMAL[_kind])),
        f"GET {_base}/{{record}}": Rule(ALL, _record(_kind)),
        f"PATCH {_base}/{{record}}": Rule(
            EDIT, _fresh(_kind, json={"changes": {"description": "changed"}})
        ),
        f"GET {_base}/{{record}}/history": Rule(ALL, _record(_kind)),
        f"GET {_base}/{{record}}/assessments": Rule(ALL, _record(_kind)),
        f"POST {_base}/{{record}}/assessments": Rule(
            ASSESS, _fresh(_kind, json={"to": "in review", "rationale": "ready for review"})
        ),
    }


def _routes() -> list[str]:
    return [f"{method} {path}" for method, path in route_table()]


def _documented() -> set[str]:
    app = create_app(Path("/nonexistent"))  # not started: the home is never opened
    paths = app.openapi()["paths"]
    return {f"{m.upper()} {p}" for p, ops in paths.items() for m in ops}


ROUTES = _routes()


def test_every_route_is_in_the_matrix() -> None:
    assert set(ROUTES) == _documented(), "the route table and the OpenAPI document differ"
    assert set(ROUTES) - set(EXPECTED) == set(), "add these routes to EXPECTED"
    assert set(EXPECTED) - set(ROUTES) == set(), "EXPECTED names routes that do not exist"


def _request(client: TestClient, key: str, values: dict[str, Any], headers: dict[str, str]) -> Any:
    method, template = key.split(" ", 1)
    client.cookies.clear()  # only the credential given here
    values = dict(values)
    kwargs = {k: values.pop(k) for k in ("json", "content", "params") if k in values}
    headers = {**values.pop("headers", {}), **headers}
    url = template.format(**values)
    return client.request(method, url, headers=headers, **kwargs)


def _code(key: str, response: Any) -> str:
    """The error envelope's code; a response to HEAD has no body to hold one."""
    return "unauthenticated" if key.startswith("HEAD ") else error_code(response)


def _login_headers(world: World, role: str) -> dict[str, str]:
    return world.headers(PEOPLE[role])


@pytest.mark.parametrize("key", ROUTES)
def test_authorization_matrix(key: str, world: World, client: TestClient) -> None:
    rule = EXPECTED[key]
    scoped = "{case}" in key or "{index}" in key
    failures = []
    cases = [("own", world.own), ("foreign", world.foreign)] if scoped else [("own", world.own)]
    for scope, ids in cases:
        for role in ROLES:
            values = {"case": ids.id, **rule.prepare(world, ids, role)}
            response = _request(client, key, values, _login_headers(world, role))
            allowed = role in rule.allowed and scope == "own"
            if allowed and not 200 <= response.status_code < 300:
                failures.append(f"{role}/{scope}: expected allow, got {response.status_code}")
            if not allowed and response.status_code != 403:
                failures.append(f"{role}/{scope}: expected 403, got {response.status_code}")
            if not allowed:
                _code(key, response)
    values = {"case": world.own.id, **rule.prepare(world, world.own, "owner")}
    anonymous = _request(client, key, values, {})
    if rule.public:
        if not 200 <= anonymous.status_code < 300:
            failures.append(f"anonymous: expected allow, got {anonymous.status_code}")
    elif anonymous.status_code != 401 or _code(key, anonymous) != "unauthenticated":
        failures.append(f"anonymous: expected 401, got {anonymous.status_code}")
    if rule.session is not None:
        failures += _in_a_session(client, world, key, rule.session)
    assert failures == []


def _in_a_session(client: TestClient, world: World, key: str, prepare: Prepare) -> list[str]:
    """A fresh user signed in with a browser session: allowed on their own account, but
    an unsafe method without the session's CSRF token is refused."""
    name = world.unique("self")
    world.users[name] = world.work.add_user(OPERATOR, name, "Self", admin=False).id
    world.auth.set_password(UUID(world.users[name]), PASSWORD)
    client.cookies.clear()
    signed = client.post(f"{V}/session", json={"username": name, "password": PASSWORD})
    assert signed.status_code == 201, signed.text
    cookie = {"Cookie": f"{SESSION_COOKIE}={signed.cookies[SESSION_COOKIE]}"}
    values = {"case": world.own.id, **prepare(world, world.own, name)}
    failures = []
    if key.split(" ", 1)[0] not in SAFE_METHODS:
        bare = _request(client, key, values, cookie)
        if bare.status_code != 403 or error_code(bare) != "csrf":
            failures.append(f"session without CSRF: expected 403, got {bare.status_code}")
    csrf = {CSRF_HEADER: signed.json()["csrf_token"]}
    response = _request(client, key, values, cookie | csrf)
    if not 200 <= response.status_code < 300:
        failures.append(f"session: expected allow, got {response.status_code} {response.text}")
    client.cookies.clear()
    return failures


def test_administrators_manage_users(world: World, client: TestClient) -> None:
    admin = world.headers("ada")
    assert client.get(f"{V}/users", headers=admin).json()["total"] >= 7
    made = client.post(
        f"{V}/users", headers=admin, json={"username": "newbie", "password": PASSWORD}
    )
    assert made.status_code == 201 and made.json()["username"] == "newbie"
    newbie = made.json()["id"]
    assert client.get(f"{V}/users/{newbie}", headers=admin).json()["username"] == "newbie"
    renamed = client.patch(f"{V}/users/{newbie}", headers=admin, json={"display_name": "N. B."})
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "N. B."
    # a disabled user's token stops working at once, and its revocation is in the ledger
    info, text = world.auth.create_token(UUID(newbie), None, timedelta(days=1))
    world.work.issue_token(OPERATOR, newbie, info.token_id, None, "2099-01-01T00:00:00Z")
    as_newbie = {"Authorization": f"Bearer {text}"}
    assert client.get(f"{V}/me", headers=as_newbie).status_code == 200
    off = client.patch(f"{V}/users/{newbie}", headers=admin, json={"disabled": True})
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert client.get(f"{V}/me", headers=as_newbie).status_code == 401
    with Home.open(world.home_path) as fresh:  # the app appended through its own handle
        revoked = [e for e in fresh.ledger.iter_entries() if e.type == "token.revoke"]
    assert revoked and revoked[-1].data["token"] == info.token_id
    myself = world.users["ada"]
    refused = client.patch(f"{V}/users/{myself}", headers=admin, json={"disabled": True})
    assert refused.status_code == 422
    weak = client.put(f"{V}/users/{newbie}/password", headers=admin, json={"password": "x"})
    assert weak.status_code == 422
    reset = client.put(f"{V}/users/{newbie}/password", headers=admin, json={"password": PASSWORD})
    assert reset.status_code == 204
    # an administrator manages, but does not read evidence (need to know)
    denied = client.get(f"{V}/cases/{world.own.id}/items", headers=admin)
    assert denied.status_code == 403 and error_code(denied) == "forbidden"
