"""Administration pages (users, roles, tokens: administrators only) and the user's own
account (password, forced change after a one-time password, TOTP, API tokens)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_kit import OPERATOR, PASSWORD, add_users, auth_of, client, csrf_of, new_home, signed_in

from svidok.auth import totp
from svidok.auth.store import AuthStore
from svidok.cases.access import Role
from svidok.cases.service import Casework, open_casework
from svidok.catalog import schema
from svidok.home import Home

XSS = "<script>alert(1)</script>"


@dataclass
class Site:
    path: Path
    home: Home
    work: Casework
    auth: AuthStore
    case: str
    users: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path = new_home(tmp_path_factory, "web-admin")
    home = Home.open(path)
    work = open_casework(home)
    auth = auth_of(path)
    users = add_users(
        work,
        auth,
        ("ada", "olena", "viktor", "stan", "taras", "mallory"),
        admins=["ada"],
        shown={"mallory": XSS},
    )
    case = work.create_case(OPERATOR, {"reference": "ADM-1", "title": "Case " + XSS}).id
    work.grant(OPERATOR, case, users["olena"], Role.OWNER)
    work.grant(OPERATOR, case, users["viktor"], Role.VIEWER)
    try:
        yield Site(path, home, work, auth, case, users)
    finally:
        auth.close()
        home.close()


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[TestClient]:
    with client(site.path) as c:
        yield c


def sign_in(c: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in as ``name``; the session's CSRF token back."""
    return csrf_of(signed_in(c, name, password, "/account").get("/account/password").text)


def entries_of(site: Site, kind: str) -> list[int]:
    with site.home.catalog.engine.connect() as conn:
        return list(
            conn.execute(
                select(schema.entries.c.idx).where(schema.entries.c.type == kind)
            ).scalars()
        )


def admin_routes(site: Site) -> list[tuple[str, str]]:
    user, case = site.users["stan"], site.case
    return [
        ("GET", "/admin"),
        ("GET", "/admin/cases"),
        ("GET", f"/admin/cases/{case}"),
        ("GET", "/admin/tokens"),
        ("POST", "/admin/users"),
        ("POST", f"/admin/users/{user}/password"),
        ("POST", f"/admin/users/{user}/disable"),
        ("POST", f"/admin/users/{user}/enable"),
        ("POST", f"/admin/cases/{case}/members"),
        ("POST", f"/admin/cases/{case}/members/{user}/revoke"),
        ("POST", "/admin/tokens/abcdefabcdef/revoke"),
    ]


# -- administration --------------------------------------------------------------------


def test_admin_pages_are_for_administrators_only(app: TestClient, site: Site) -> None:
    for name in ("olena", "viktor"):
        csrf = sign_in(app, name)
        for method, url in admin_routes(site):
            data = {
                "csrf_token": csrf,
                "username": "intruder",
                "user": site.users["stan"],
                "role": "owner",
            }
            r = app.get(url) if method == "GET" else app.post(url, data=data)
            assert r.status_code == 403, (name, method, url)
        assert 'href="/admin"' not in app.get("/cases").text
    assert site.work.members(OPERATOR, site.case) == site.work.members(OPERATOR, site.case)
    assert all(u.username != "intruder" for u in site.work.users())
    assert not site.work.user(site.users["stan"]).disabled
    roles = {u.username: r for u, r in site.work.members(OPERATOR, site.case)}
    assert "stan" not in roles and roles["olena"] == Role.OWNER
    app.cookies.clear()
    r = app.get("/admin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


def test_posts_without_csrf_change_nothing(app: TestClient, site: Site) -> None:
    sign_in(app, "ada")
    before = site.home.ledger.size
    for method, url in admin_routes(site):
        if method == "POST":
            r = app.post(
                url, data={"username": "nocsrf", "user": site.users["stan"], "role": "owner"}
            )
            assert r.status_code == 403, url
            r = app.post(
                url,
                data={
                    "csrf_token": "forged",
                    "username": "nocsrf",
                    "user": site.users["stan"],
                    "role": "owner",
                },
            )
            assert r.status_code == 403, url
    assert all(u.username != "nocsrf" for u in site.work.users())
    assert not site.work.user(site.users["stan"]).disabled
    site.home.ledger.refresh()
    assert site.home.ledger.size == before
    assert sign_in(app, "stan")  # its password was not reset


def test_admin_adds_a_user_with_a_one_time_password(app: TestClient, site: Site) -> None:
    csrf = sign_in(app, "ada")
    r = app.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "nadia", "display_name": "Nadia " + XSS},
    )
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    found = re.search(r'id="one-time-password">([a-z0-9-]+)<', r.text)
    assert found, r.text
    password = found.group(1)
    assert password not in app.get("/admin").text  # shown once
    assert "&lt;script&gt;" in app.get("/admin").text and XSS not in app.get("/admin").text
    # the new user signs in with it and must choose their own password first
    app.cookies.clear()
    r = app.post(
        "/signin",
        data={"username": "nadia", "password": password, "next": "/cases"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = app.get("/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    page = app.get("/account/password")
    assert page.status_code == 200 and "one-time password" in page.text
    csrf = csrf_of(page.text)
    r = app.post(
        "/account/password",
        data={"csrf_token": csrf, "current": password, "new": "short", "again": "short"},
    )
    assert r.status_code == 422 and "at least 12 characters" in r.text
    new = "nadia's own long passphrase"
    r = app.post(
        "/account/password",
        data={"csrf_token": csrf, "current": password, "new": new, "again": new},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/account")
    assert app.get("/cases").status_code == 200
    sign_in(app, "nadia", new)
    app.cookies.clear()
    r = app.post(
        "/signin", data={"username": "nadia", "password": password}, follow_redirects=False
    )
    assert r.status_code == 401  # the one-time password is gone


def test_add_user_errors_are_shown_on_the_form(app: TestClient, site: Site) -> None:
    csrf = sign_in(app, "ada")
    r = app.post("/admin/users", data={"csrf_token": csrf, "username": "olena"})
    assert r.status_code == 422 and "taken" in r.text
    r = app.post("/admin/users", data={"csrf_token": csrf, "username": "bad name<script>"})
    assert r.status_code == 422 and "<script>" not in r.text.replace('<script src="', "")


def test_reset_password_ends_the_users_sessions(app: TestClient, site: Site) -> None:
    sign_in(app, "taras")
    taras_cookie = app.cookies.get("svidok_session")
    info, _text = site.auth.create_token(UUID(site.users["taras"]), None, timedelta(days=1))
    site.work.issue_token(
        OPERATOR, site.users["taras"], info.token_id, None, "2099-01-01T00:00:00Z"
    )
    csrf = sign_in(app, "ada")
    admin_cookie = app.cookies.get("svidok_session")
    r = app.post(f"/admin/users/{site.users['taras']}/password", data={"csrf_token": csrf})
    assert r.status_code == 200
    password = re.search(r'id="one-time-password">([a-z0-9-]+)<', r.text)
    assert password
    app.cookies.clear()
    app.cookies.set("svidok_session", str(taras_cookie))
    r = app.get("/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert site.auth.list_tokens(UUID(site.users["taras"]))[-1].revoked is not None
    with site.home.catalog.engine.connect() as conn:
        row = conn.execute(
            select(schema.api_tokens).where(schema.api_tokens.c.id == info.token_id)
        ).one()
    assert row.revoked_entry is not None  # the revocation is in the ledger
    app.cookies.clear()
    app.cookies.set("svidok_session", str(admin_cookie))
    assert app.get("/admin").status_code == 200  # the administrator's session stands
    r = app.post(f"/admin/users/{site.users['ada']}/password", data={"csrf_token": csrf})
    assert r.status_code == 422  # not one's own


def test_disable_and_enable(app: TestClient, site: Site) -> None:
    sign_in(app, "stan")
    stan_cookie = app.cookies.get("svidok_session")
    csrf = sign_in(app, "ada")
    admin_cookie = app.cookies.get("svidok_session")
    r = app.post(
        f"/admin/users/{site.users['stan']}/disable",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert site.work.user(site.users["stan"]).disabled
    app.cookies.clear()
    app.cookies.set("svidok_session", str(stan_cookie))
    assert app.get("/cases", follow_redirects=False).status_code == 303
    app.cookies.clear()
    app.cookies.set("svidok_session", str(admin_cookie))
    r = app.post(
        f"/admin/users/{site.users['stan']}/enable",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and not site.work.user(site.users["stan"]).disabled
    r = app.post(f"/admin/users/{site.users['ada']}/disable", data={"csrf_token": csrf})
    assert r.status_code == 422 and not site.work.user(site.users["ada"]).disabled


def test_grant_and_revoke_roles(app: TestClient, site: Site) -> None:
    csrf = sign_in(app, "ada")
    html = app.get("/admin/cases").text
    assert "ADM-1" in html and XSS not in html and "Case &lt;script&gt;" in html
    page = app.get(f"/admin/cases/{site.case}")
    assert page.status_code == 200 and XSS not in page.text
    r = app.post(
        f"/admin/cases/{site.case}/members",
        data={"csrf_token": csrf, "user": site.users["stan"], "role": "reviewer"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    roles = {u.username: r for u, r in site.work.members(OPERATOR, site.case)}
    assert roles["stan"] == Role.REVIEWER
    assert "stan" in app.get(f"/admin/cases/{site.case}").text
    r = app.post(
        f"/admin/cases/{site.case}/members",
        data={"csrf_token": csrf, "user": site.users["stan"], "role": "emperor"},
    )
    assert r.status_code == 422
    r = app.post(
        f"/admin/cases/{site.case}/members/{site.users['stan']}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "stan" not in {u.username for u, _ in site.work.members(OPERATOR, site.case)}
    r = app.post(
        f"/admin/cases/{site.case}/members/{site.users['olena']}/revoke", data={"csrf_token": csrf}
    )
    assert r.status_code == 422 and "last owner" in r.text
    # managing roles does not open the case's records to the administrator
    assert app.get("/cases/ADM-1").status_code == 403


def test_admin_revokes_a_token_and_the_ledger_records_it(app: TestClient, site: Site) -> None:
    info, _text = site.auth.create_token(
        UUID(site.users["viktor"]), [UUID(site.case)], timedelta(days=3)
    )
    site.work.issue_token(
        OPERATOR, site.users["viktor"], info.token_id, [site.case], "2099-01-01T00:00:00Z"
    )
    before = len(entries_of(site, "token.revoke"))
    csrf = sign_in(app, "ada")
    html = app.get("/admin/tokens").text
    assert info.token_id in html and "ADM-1" in html
    r = app.post(
        f"/admin/tokens/{info.token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert (
        next(
            t
            for t in site.auth.list_tokens(UUID(site.users["viktor"]))
            if t.token_id == info.token_id
        ).revoked
        is not None
    )
    assert len(entries_of(site, "token.revoke")) == before + 1
    assert info.token_id not in app.get("/admin/tokens").text
    assert info.token_id in app.get("/admin/tokens?all=1").text
    assert (
        app.post("/admin/tokens/zzzzzzzzzzzz/revoke", data={"csrf_token": csrf}).status_code == 404
    )


# -- own account -----------------------------------------------------------------------


def test_account_page_escapes_the_name(app: TestClient, site: Site) -> None:
    sign_in(app, "mallory")
    html = app.get("/account").text
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_password_change_checks_everything(app: TestClient, site: Site) -> None:
    csrf = sign_in(app, "olena")
    other = TestClient(app.app, base_url="http://127.0.0.1")
    r = app.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current": "wrong one!!!!",
            "new": "a fresh passphrase",
            "again": "a fresh passphrase",
        },
    )
    assert r.status_code == 403 and "not right" in r.text
    r = app.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current": PASSWORD,
            "new": "a fresh passphrase",
            "again": "another",
        },
    )
    assert r.status_code == 422 and "not the same" in r.text
    r = app.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a fresh passphrase", "again": "a fresh passphrase"},
    )
    assert r.status_code == 403
    old_cookie = app.cookies.get("svidok_session")
    r = app.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current": PASSWORD,
            "new": "a fresh passphrase",
            "again": "a fresh passphrase",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "changed" in app.get("/account?done=password").text
    other.cookies.set("svidok_session", str(old_cookie))
    assert other.get("/cases", follow_redirects=False).status_code == 303  # old session ended
    site.auth.set_password(UUID(site.users["olena"]), PASSWORD)


def test_totp_enrolment(app: TestClient, site: Site) -> None:
    csrf = sign_in(app, "viktor")
    r = app.post("/account/totp", data={"csrf_token": csrf, "password": "wrong password"})
    assert r.status_code == 403
    r = app.post("/account/totp", data={"csrf_token": csrf, "password": PASSWORD})
    assert r.status_code == 200
    assert "<svg" in r.text and 'class="qr"' in r.text
    svg = r.text[r.text.index("<svg") : r.text.index("</svg>")]
    assert "script" not in svg.lower() and " on" not in svg.lower()
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', r.text)
    assert secret and "otpauth://totp/" in r.text
    r = app.post("/account/totp/confirm", data={"csrf_token": csrf, "code": "000000"})
    assert r.status_code == 422 or r.status_code == 303
    if r.status_code == 422:
        code = totp.code_at(secret.group(1), datetime.now(UTC))
        r = app.post(
            "/account/totp/confirm", data={"csrf_token": csrf, "code": code}, follow_redirects=False
        )
        assert r.status_code == 303
    assert site.auth.totp_enabled(UUID(site.users["viktor"]))
    r = app.post(
        "/account/totp/disable",
        data={"csrf_token": csrf, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and not site.auth.totp_enabled(UUID(site.users["viktor"]))


def test_own_tokens(app: TestClient, site: Site) -> None:
    csrf = sign_in(app, "viktor")
    r = app.post("/account/tokens", data={"csrf_token": csrf, "cases": site.case, "days": "7"})
    assert r.status_code == 200
    token = re.search(r'id="new-token">([^<]+)<', r.text)
    assert token
    assert token.group(1) not in app.get("/account").text  # shown once
    api = app.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert api.status_code == 200
    mine = [t for t in site.auth.list_tokens(UUID(site.users["viktor"])) if t.revoked is None]
    newest = max(mine, key=lambda t: t.created)
    before = len(entries_of(site, "token.revoke"))
    r = app.post(
        f"/account/tokens/{newest.token_id}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert len(entries_of(site, "token.revoke")) == before + 1
    app.cookies.clear()
    api = app.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert api.status_code == 401
    csrf = sign_in(app, "viktor")
    r = app.post("/account/tokens", data={"csrf_token": csrf, "days": "100000"})
    assert r.status_code == 422
    # another user's token cannot be revoked from one's own account
    info, _ = site.auth.create_token(UUID(site.users["olena"]), None, timedelta(days=1))
    r = app.post(f"/account/tokens/{info.token_id}/revoke", data={"csrf_token": csrf})
    assert r.status_code == 404
    assert site.auth.list_tokens(UUID(site.users["olena"]))[-1].revoked is None
