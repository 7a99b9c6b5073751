"""What the tests of the web pages share: a data home whose users have a password, a client
on the app, signing in, and the CSRF token of a page (``from web_kit import ...``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from svidok.api import create_app
from svidok.auth.store import AuthStore
from svidok.cases.access import Actor
from svidok.cases.service import Casework
from svidok.home import Home

OPERATOR = Actor.operator("operator")
PASSWORD = "correct horse battery staple"


def new_home(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A fresh data home, ``home`` in a new temporary folder ``name`` (for files beside it)."""
    path = tmp_path_factory.mktemp(name) / "home"
    Home.init(path, origin=f"svidok.test/{name}", actor="tester")
    return path


def auth_of(path: Path) -> AuthStore:
    """The home's store of passwords and sessions, migrated; the caller closes it."""
    auth = AuthStore.for_home(path)
    auth.migrate()
    return auth


def add_users(
    work: Casework,
    auth: AuthStore,
    names: Iterable[str],
    *,
    admins: Iterable[str] = (),
    shown: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Users by name (shown as ``shown[name]``, else the name titled), each with PASSWORD;
    their ids by name."""
    admin = set(admins)
    users = {}
    for name in names:
        title = (shown or {}).get(name, name.title())
        users[name] = work.add_user(OPERATOR, name, title, admin=name in admin).id
        auth.set_password(UUID(users[name]), PASSWORD)
    return users


@contextmanager
def client(path: Path) -> Iterator[TestClient]:
    """A client on the web app of the home at ``path``, over plain http on 127.0.0.1."""
    with TestClient(create_app(path, secure_cookies=False), base_url="http://127.0.0.1") as c:
        yield c


def signed_in(
    app: TestClient, name: str, password: str = PASSWORD, next_path: str = "/cases"
) -> TestClient:
    """The client, signed in afresh as ``name``."""
    app.cookies.clear()
    r = app.post(
        "/signin",
        data={"username": name, "password": password, "next": next_path},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return app


def csrf_of(html: str) -> str:
    """The session's CSRF token, as a page carries it."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found
    return found.group(1)
