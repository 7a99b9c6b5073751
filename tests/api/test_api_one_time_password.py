"""A one-time password (``svidok demo``, ``svidok user reset-password``): signed in with
it, a user may read ``GET /me``, change the password and sign out, nothing else (with a
session or an API token) until the password is changed."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

from svidok.api.app import PREFIX as V
from svidok.api.deps import CSRF_HEADER
from svidok.cases.access import Role

from .conftest import OPERATOR, World, error_code
from .test_api_me import NEW_PASSWORD, bearer, fresh_client, sign_in

REQUIRED = "password_change_required"


def one_time_user(world: World) -> tuple[str, str]:
    """A new investigator on the team's case with a one-time password: (name, password)."""
    name = world.unique("otp")
    user = world.work.add_user(OPERATOR, name, name.title(), admin=False).id
    world.users[name] = user
    world.work.grant(OPERATOR, world.own.id, user, Role.INVESTIGATOR)
    issued = world.auth.issue_one_time_password(UUID(user))
    return name, issued.password


def test_sign_in_with_a_one_time_password_then_change_it(
    world: World, client: TestClient
) -> None:
    name, password = one_time_user(world)
    with fresh_client(client) as c:
        signed = sign_in(c, name, password)
        assert signed.status_code == 201, signed.text
        assert signed.json()["must_change_password"] is True
        csrf = {CSRF_HEADER: signed.json()["csrf_token"]}

        refused = c.get(f"{V}/cases")
        assert refused.status_code == 403 and error_code(refused) == REQUIRED
        for method, path in [
            ("GET", f"{V}/cases/{world.own.id}"),
            ("GET", f"{V}/me/tokens"),
            ("POST", f"{V}/me/tokens"),
            ("GET", f"{V}/ledger/checkpoint"),
        ]:
            answer = c.request(method, path, json={"days": 1}, headers=csrf)
            assert answer.status_code == 403 and error_code(answer) == REQUIRED, path
        me = c.get(f"{V}/me")
        assert me.status_code == 200 and me.json()["must_change_password"] is True

        url = f"{V}/me/password"
        same = c.put(url, json={"current": password, "new": password}, headers=csrf)
        assert same.status_code == 422 and error_code(same) == "invalid"
        changed = c.put(url, json={"current": password, "new": NEW_PASSWORD}, headers=csrf)
        assert changed.status_code == 200, changed.text

        cases = c.get(f"{V}/cases")
        assert cases.status_code == 200
        assert world.own.id in {case["id"] for case in cases.json()["items"]}
        assert c.get(f"{V}/me").json()["must_change_password"] is False
        assert not world.auth.must_change_password(UUID(world.users[name]))

        again = sign_in(c, name, NEW_PASSWORD)
        assert again.status_code == 201 and again.json()["must_change_password"] is False
        assert sign_in(c, name, password).status_code == 401  # the one-time one is gone


def test_an_api_token_of_such_a_user_is_refused_too(world: World, client: TestClient) -> None:
    name, _password = one_time_user(world)
    token = world.token(name)  # issued after the one-time password
    with fresh_client(client) as c:
        c.cookies.clear()
        refused = c.get(f"{V}/cases", headers=bearer(token))
        assert refused.status_code == 403 and error_code(refused) == REQUIRED
        me = c.get(f"{V}/me", headers=bearer(token))
        assert me.status_code == 200 and me.json()["must_change_password"] is True
        # a token never changes a password: only a browser session does
        put = c.put(
            f"{V}/me/password",
            json={"current": _password, "new": NEW_PASSWORD},
            headers=bearer(token),
        )
        assert put.status_code == 403 and error_code(put) == "forbidden"


def test_signing_out_is_allowed(world: World, client: TestClient) -> None:
    name, password = one_time_user(world)
    with fresh_client(client) as c:
        signed = sign_in(c, name, password)
        csrf = {CSRF_HEADER: signed.json()["csrf_token"]}
        assert c.delete(f"{V}/session", headers=csrf).status_code == 204
        assert c.get(f"{V}/me").status_code == 401


def test_a_user_with_an_ordinary_password_is_not_asked(world: World, client: TestClient) -> None:
    with fresh_client(client) as c:
        signed = sign_in(c, "taras")
        assert signed.status_code == 201 and signed.json()["must_change_password"] is False
        assert c.get(f"{V}/cases").status_code == 200
