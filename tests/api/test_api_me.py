"""One's own account through the API: TOTP set-up and sign-in with it, password change,
API tokens; and what an API token may not do to the account."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from svidok.api.app import PREFIX as V
from svidok.api.deps import CSRF_HEADER, SESSION_COOKIE
from svidok.auth import totp
from svidok.cases.access import Role
from svidok.catalog import schema
from svidok.errors import LedgerLockedError
from svidok.home import Home

from .conftest import OPERATOR, PASSWORD, World, error_code

NEW_PASSWORD = "a different horse and staple"
_addresses = iter(range(10, 250))


@contextmanager
def fresh_client(client: TestClient) -> Iterator[TestClient]:
    """Another browser on the same (running) app, from its own address, so that its
    failed attempts count against no other test's throttling."""
    address = f"198.51.100.{next(_addresses)}"
    with TestClient(client.app, base_url="https://testserver", client=(address, 1)) as c:
        yield c


def new_user(world: World, *, role: Role | None = None) -> str:
    name = world.unique("me")
    world.users[name] = world.work.add_user(OPERATOR, name, name.title(), admin=False).id
    world.auth.set_password(UUID(world.users[name]), PASSWORD)
    if role is not None:
        world.work.grant(OPERATOR, world.own.id, world.users[name], role)
    return name


def sign_in(c: TestClient, name: str, password: str = PASSWORD, **extra: Any) -> Any:
    c.cookies.clear()
    return c.post(f"{V}/session", json={"username": name, "password": password, **extra})


def session_of(c: TestClient, name: str) -> dict[str, str]:
    """Sign in (the cookie stays in ``c``); the CSRF header to send with changes."""
    signed = sign_in(c, name)
    assert signed.status_code == 201, signed.text
    return {CSRF_HEADER: signed.json()["csrf_token"]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ledger_token(world: World, token_id: str) -> Any:
    """The ledger's projection of a token (read through a Home of its own)."""
    with Home.open(world.home_path) as home, home.catalog.engine.connect() as conn:
        return conn.execute(
            select(schema.api_tokens).where(schema.api_tokens.c.id == token_id)
        ).first()


def test_totp_enrol_confirm_sign_in_replay_and_disable(world: World, client: TestClient) -> None:
    name = new_user(world)
    with fresh_client(client) as c:
        csrf = session_of(c, name)
        me = c.get(f"{V}/me").json()
        assert me["user"]["username"] == name and me["auth"] == "session"
        assert me["totp_enabled"] is False and me["second_factor"] is False and me["token"] is None

        refused = c.post(f"{V}/me/totp", json={"password": PASSWORD})
        assert refused.status_code == 403 and error_code(refused) == "csrf"
        guessed = c.post(f"{V}/me/totp", json={"password": "not the password"}, headers=csrf)
        assert guessed.status_code == 403 and error_code(guessed) == "wrong_password"
        started = c.post(f"{V}/me/totp", json={"password": PASSWORD}, headers=csrf)
        assert started.status_code == 201 and started.headers["cache-control"] == "no-store"
        secret, uri = started.json()["secret"], started.json()["uri"]
        assert len(base64.b32decode(secret)) == totp.SECRET_BYTES
        assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
        assert c.get(f"{V}/me").json()["totp_enabled"] is False  # not before confirmed

        now = datetime.now(UTC)
        step = totp.step_at(now)
        near = {totp.code_for_step(secret, s) for s in range(step - 2, step + 3)}
        wrong = next(
            code
            for code in (totp.code_for_step(secret, step + k) for k in range(10, 100))
            if code not in near
        )
        mismatch = c.post(f"{V}/me/totp/confirm", json={"code": wrong}, headers=csrf)
        assert mismatch.status_code == 422 and error_code(mismatch) == "wrong_code"
        confirmed = c.post(
            f"{V}/me/totp/confirm", json={"code": totp.code_at(secret, now)}, headers=csrf
        )
        assert confirmed.status_code == 204
        assert c.get(f"{V}/me").json()["totp_enabled"] is True
        again = c.post(f"{V}/me/totp", json={"password": PASSWORD}, headers=csrf)
        assert again.status_code == 409 and error_code(again) == "conflict"

        # signing in now needs a code
        only_password = sign_in(c, name)
        assert only_password.status_code == 401 and error_code(only_password) == "totp_required"
        assert SESSION_COOKIE not in only_password.cookies
        bad = sign_in(c, name, totp=wrong)
        assert bad.status_code == 401 and error_code(bad) == "unauthenticated"
        code = totp.code_for_step(secret, step + 1)  # the confirmation used this step
        signed = sign_in(c, name, totp=code)
        assert signed.status_code == 201 and signed.json()["second_factor"] is True
        csrf = {CSRF_HEADER: signed.json()["csrf_token"]}
        me = c.get(f"{V}/me").json()
        assert me["totp_enabled"] is True and me["second_factor"] is True
        replayed = sign_in(c, name, totp=code)
        assert replayed.status_code == 401 and error_code(replayed) == "unauthenticated"

        # turning it off needs the password
        c.cookies.set(SESSION_COOKIE, signed.cookies[SESSION_COOKIE], path="/api")
        body = {"password": "not the password"}
        wrong_password = c.request("DELETE", f"{V}/me/totp", json=body, headers=csrf)
        assert wrong_password.status_code == 403 and error_code(wrong_password) == "wrong_password"
        assert c.get(f"{V}/me").json()["totp_enabled"] is True  # still signed in, still on
        body = {"password": PASSWORD}
        assert c.request("DELETE", f"{V}/me/totp", json=body, headers=csrf).status_code == 204
        assert c.get(f"{V}/me").json()["totp_enabled"] is False
        plain = sign_in(c, name)
        assert plain.status_code == 201 and plain.json()["second_factor"] is False


def test_password_change_revokes_other_sessions_and_tokens(
    world: World, client: TestClient
) -> None:
    name = new_user(world, role=Role.VIEWER)
    with fresh_client(client) as other, fresh_client(client) as c:
        session_of(other, name)
        assert other.get(f"{V}/me").status_code == 200
        csrf = session_of(c, name)
        old_cookie = c.cookies[SESSION_COOKIE]
        made = [c.post(f"{V}/me/tokens", json={"days": 1}, headers=csrf).json() for _ in "ab"]
        gone = made[1]["id"]
        assert c.delete(f"{V}/me/tokens/{gone}", headers=csrf).status_code == 204
        live = made[0]
        assert c.get(f"{V}/cases", headers=bearer(live["token"])).status_code == 200

        url = f"{V}/me/password"
        wrong = c.put(url, json={"current": "not it at all", "new": NEW_PASSWORD}, headers=csrf)
        assert wrong.status_code == 403 and error_code(wrong) == "wrong_password"
        weak = c.put(url, json={"current": PASSWORD, "new": "short"}, headers=csrf)
        assert weak.status_code == 422 and error_code(weak) == "invalid"
        no_csrf = c.put(url, json={"current": PASSWORD, "new": NEW_PASSWORD})
        assert no_csrf.status_code == 403 and error_code(no_csrf) == "csrf"
        assert c.get(f"{V}/cases", headers=bearer(live["token"])).status_code == 200  # nothing yet

        changed = c.put(url, json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=csrf)
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert body["revoked_tokens"] == [live["id"]] and body["unrecorded_tokens"] == []
        assert SESSION_COOKIE in changed.cookies and c.cookies[SESSION_COOKIE] != old_cookie
        assert changed.headers["cache-control"] == "no-store"

        # the other browser, the old cookie and the token are all out
        assert other.get(f"{V}/me").status_code == 401
        stale = c.get(f"{V}/me", headers={"Cookie": f"{SESSION_COOKIE}={old_cookie}"})
        assert stale.status_code == 401
        revoked = c.get(f"{V}/cases", headers=bearer(live["token"]))
        assert revoked.status_code == 401 and error_code(revoked) == "unauthenticated"
        assert ledger_token(world, live["id"]).revoked_entry is not None
        assert ledger_token(world, gone).revoked_entry is not None

        # this browser goes on with its new session and CSRF token
        fresh = {CSRF_HEADER: body["csrf_token"]}
        assert c.get(f"{V}/me").json()["user"]["username"] == name
        assert c.post(f"{V}/me/tokens", json={"days": 1}, headers=fresh).status_code == 201
        assert c.post(f"{V}/me/tokens", json={"days": 1}, headers=csrf).status_code == 403
        assert sign_in(c, name).status_code == 401
        assert sign_in(c, name, NEW_PASSWORD).status_code == 201


def test_tokens_create_list_revoke(world: World, client: TestClient) -> None:
    name = new_user(world, role=Role.ANALYST)
    with fresh_client(client) as c:
        csrf = session_of(c, name)
        scoped = c.post(f"{V}/me/tokens", json={"cases": [world.own.id], "days": 7}, headers=csrf)
        assert scoped.status_code == 201, scoped.text
        assert scoped.headers["cache-control"] == "no-store"
        one = scoped.json()
        assert one["token"].startswith(f"svidok_{one['id']}_") and one["live"] is True
        assert one["cases"] == [world.own.id] and one["revoked"] is None
        assert ledger_token(world, one["id"]).revoked_entry is None  # recorded, live
        everything = c.post(f"{V}/me/tokens", json={"cases": None, "days": 1}, headers=csrf)
        assert everything.status_code == 201
        two = everything.json()

        # refused: a case without a role on it, a lifetime past the policy, no CSRF
        foreign = {"cases": [world.foreign.id], "days": 1}
        denied = c.post(f"{V}/me/tokens", json=foreign, headers=csrf)
        assert denied.status_code == 403 and error_code(denied) == "forbidden"
        too_long = c.post(f"{V}/me/tokens", json={"days": 1000}, headers=csrf)
        assert too_long.status_code == 422 and error_code(too_long) == "invalid"
        empty = c.post(f"{V}/me/tokens", json={"cases": [], "days": 1}, headers=csrf)
        assert empty.status_code == 422
        assert c.post(f"{V}/me/tokens", json={"days": 1}).status_code == 403

        listed = c.get(f"{V}/me/tokens").json()
        assert [t["id"] for t in listed["items"]] == [one["id"], two["id"]]
        assert listed["total"] == 2 and "token" not in listed["items"][0]

        # with the scoped token: who it is, and only tokens within its scope
        c.cookies.clear()
        as_token = bearer(one["token"])
        me = c.get(f"{V}/me", headers=as_token).json()
        assert me["auth"] == "token" and me["token"]["id"] == one["id"]
        assert me["token"]["cases"] == [world.own.id] and me["second_factor"] is False
        seen = c.get(f"{V}/me/tokens", headers=as_token).json()
        assert [t["id"] for t in seen["items"]] == [one["id"]]
        full = c.get(f"{V}/me/tokens", headers=bearer(two["token"])).json()
        assert {t["id"] for t in full["items"]} == {one["id"], two["id"]}

        # a token manages neither tokens nor the second factor nor the password
        refused = [
            c.post(f"{V}/me/tokens", json={"days": 1}, headers=as_token),
            c.delete(f"{V}/me/tokens/{two['id']}", headers=as_token),
            c.post(f"{V}/me/totp", headers=as_token),
            c.post(f"{V}/me/totp/confirm", json={"code": "123456"}, headers=as_token),
            c.request("DELETE", f"{V}/me/totp", json={"password": PASSWORD}, headers=as_token),
            c.put(
                f"{V}/me/password",
                json={"current": PASSWORD, "new": NEW_PASSWORD},
                headers=as_token,
            ),
        ]
        assert [r.status_code for r in refused] == [403] * len(refused)
        assert {error_code(r) for r in refused} == {"forbidden"}
        assert world.auth.totp_enabled(UUID(world.users[name])) is False
        assert len(world.auth.list_tokens(UUID(world.users[name]))) == 2

        # revoking: in a session, any of one's own; a token, only itself
        csrf = session_of(c, name)
        assert c.delete(f"{V}/me/tokens/{two['id']}", headers=csrf).status_code == 204
        assert c.delete(f"{V}/me/tokens/{two['id']}", headers=csrf).status_code == 204  # again
        assert c.get(f"{V}/me", headers=bearer(two["token"])).status_code == 401
        assert ledger_token(world, two["id"]).revoked_entry is not None
        assert c.delete(f"{V}/me/tokens/aaaaaaaaaaaa", headers=csrf).status_code == 404
        others = world.auth.list_tokens(UUID(world.users["olena"]))[0].token_id
        not_mine = c.delete(f"{V}/me/tokens/{others}", headers=csrf)
        assert not_mine.status_code == 404 and error_code(not_mine) == "not_found"
        assert c.get(f"{V}/me", headers=world.headers("olena")).status_code == 200
        malformed = c.delete(f"{V}/me/tokens/NOT-A-TOKEN-ID", headers=csrf)
        assert malformed.status_code == 422

        c.cookies.clear()
        assert c.delete(f"{V}/me/tokens/{one['id']}", headers=as_token).status_code == 204
        assert c.get(f"{V}/me", headers=as_token).status_code == 401
        assert ledger_token(world, one["id"]).revoked_entry is not None
        session_of(c, name)
        states = {t["id"]: t["live"] for t in c.get(f"{V}/me/tokens").json()["items"]}
        assert states == {one["id"]: False, two["id"]: False}


def test_a_token_the_ledger_did_not_take_is_revoked_again(
    world: World, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = new_user(world)
    state = client.app.state.svidok  # type: ignore[attr-defined]

    def busy(*_args: Any, **_kwargs: Any) -> None:
        raise LedgerLockedError("the ledger is busy")

    monkeypatch.setattr(state.work, "issue_token", busy)
    with fresh_client(client) as c:
        csrf = session_of(c, name)
        failed = c.post(f"{V}/me/tokens", json={"days": 1}, headers=csrf)
        assert failed.status_code == 503 and error_code(failed) == "busy"
        assert "svidok_" not in failed.text
        (only,) = world.auth.list_tokens(UUID(world.users[name]))
        assert only.revoked is not None  # never a live token the ledger lacks
        listed = c.get(f"{V}/me/tokens").json()["items"]
        assert [(t["id"], t["live"]) for t in listed] == [(only.token_id, False)]
