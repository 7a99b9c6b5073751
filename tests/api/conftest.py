"""A data home with a team on one case and a stranger on another, the API over it, and an
API token per person."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from svidok.api import create_app
from svidok.api.app import open_state
from svidok.auth.store import AuthStore
from svidok.cases.access import Actor, Role
from svidok.cases.service import Casework, open_casework
from svidok.home import Home
from svidok.intake.ingest import IngestOptions, ingest

OPERATOR = Actor.operator("operator")
ROLES = ("owner", "investigator", "reviewer", "analyst", "viewer")
PEOPLE = {
    "owner": "olena",
    "investigator": "taras",
    "reviewer": "iryna",
    "analyst": "mykola",
    "viewer": "viktor",
}
PASSWORD = "correct horse battery staple"
UPLOAD_LIMIT = 1 << 20
MINIMAL = {
    "item": {"title": "Photo"},
    "incident": {"title": "Shelling"},
    "person": {"names": [{"value": "Witness W-1", "kind": "pseudonym"}]},
    "place": {"name": "Yablunska St."},
    "source": {"name": "Local NGO", "source_type": "organisation"},
}


@dataclass
class CaseIds:
    id: str
    owner: str  # user id
    records: dict[str, str] = field(default_factory=dict)  # kind -> record id
    evidence: str = ""  # an item with a stored original
    link: str = ""
    entry: int = 0  # a ledger entry of this case


@dataclass
class World:
    home_path: Path
    home: Home
    work: Casework
    auth: AuthStore
    users: dict[str, str]  # name -> user id
    tokens: dict[str, str]  # name -> token text
    own: CaseIds
    foreign: CaseIds
    counter: list[int] = field(default_factory=lambda: [0])

    def unique(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}{self.counter[0]}"

    def token(self, name: str, cases: list[str] | None = None) -> str:
        user = self.users[name]
        info, text = self.auth.create_token(
            UUID(user), None if cases is None else [UUID(c) for c in cases], timedelta(days=1)
        )
        self.work.issue_token(OPERATOR, user, info.token_id, cases, "2099-01-01T00:00:00Z")
        return text

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def fresh_record(self, case: str, kind: str) -> str:
        return self.work.create(OPERATOR, case, kind, MINIMAL[kind]).id


def _stored_item(work: Casework, home: Home, case: str, tmp: Path) -> str:
    data = os.urandom(64)
    path = tmp / f"evidence-{case}.bin"
    path.write_bytes(data)
    report = ingest(home, [str(path)], IngestOptions(case=case, collector="operator"))
    obj = report.outcomes[0].object_id
    return work.create(OPERATOR, case, "item", {"title": "Original", "object": obj}).id


def _case(work: Casework, home: Home, owner: str, ref: str, tmp: Path) -> CaseIds:
    case = work.create_case(OPERATOR, {"reference": ref, "title": f"Case {ref}"})
    work.grant(OPERATOR, case.id, owner, Role.OWNER)
    ids = CaseIds(case.id, owner)
    for kind in MINIMAL:
        ids.records[kind] = work.create(OPERATOR, case.id, kind, MINIMAL[kind]).id
    ids.evidence = _stored_item(work, home, case.id, tmp)
    ids.link = work.link(
        OPERATOR, case.id, "item-incident", ids.records["item"], ids.records["incident"]
    ).id
    ids.entry = work.history(OPERATOR, case.id, ids.records["place"])[0].index
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("api")
    path = tmp / "home"
    Home.init(path, origin="svidok.test/api", actor="tester")
    home = Home.open(path)
    work = open_casework(home)
    auth = AuthStore.for_home(path)
    auth.migrate()
    users = {}
    for name in [*PEOPLE.values(), "stan", "ada"]:
        users[name] = work.add_user(OPERATOR, name, name.title(), admin=name == "ada").id
    own = _case(work, home, users["olena"], "OWN-1", tmp)
    foreign = _case(work, home, users["stan"], "FOREIGN-1", tmp)
    for role, name in PEOPLE.items():
        if role != "owner":
            work.grant(OPERATOR, own.id, users[name], Role(role))
    for user in users.values():
        auth.set_password(UUID(user), PASSWORD)
    world = World(path, home, work, auth, users, {}, own, foreign)
    world.tokens = {name: world.token(name) for name in users}
    try:
        yield world
    finally:
        auth.close()
        home.close()


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.home_path, upload_limit=UPLOAD_LIMIT)
    with TestClient(app, base_url="https://testserver") as c:
        yield c


def error_code(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return str(body["error"]["code"])


__all__ = ["ROLES", "World", "error_code", "open_state"]
