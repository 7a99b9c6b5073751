"""The JSON API of near-duplicates: a case's pairs, an item's pairs and its hash, and a
decision; refused to those without a role (the full matrix of roles is in
tests/api/test_api_matrix.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from analysis.kit import OPERATOR, case_with_files, jpeg, natural
from svidok.analysis.hashing import compute_hashes
from svidok.api import create_app
from svidok.auth.store import AuthStore
from svidok.cases.access import Role
from svidok.home import Home

V = "/api/v1"
Api = tuple[TestClient, dict[str, str], dict[str, str], str]  # client, tokens, items, case


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    base = tmp_path_factory.mktemp("dup-api")
    path = base / "home"
    Home.init(path, origin="svidok.test/dup-api", actor="tester")
    home = Home.open(path)
    scene = natural(51)
    work, case_id, items = case_with_files(home, base / "in", {
        "a.jpg": jpeg(scene), "b.jpg": jpeg(scene.resize((320, 240)), quality=40),
        "c.jpg": jpeg(natural(52))})
    compute_hashes(home, "tester")
    auth = AuthStore.for_home(path)
    auth.migrate()
    tokens = {}
    for name, role in (("analyst", Role.ANALYST), ("viewer", Role.VIEWER), ("stranger", None)):
        user = work.add_user(OPERATOR, name, name.title(), admin=False).id
        if role is not None:
            work.grant(OPERATOR, case_id, user, role)
        info, tokens[name] = auth.create_token(UUID(user), None, timedelta(days=1))
        work.issue_token(OPERATOR, user, info.token_id, None, "2099-01-01T00:00:00Z")
    auth.close()
    home.close()
    with TestClient(create_app(path, secure_cookies=False)) as client:
        yield client, tokens, items, case_id


def _as(tokens: dict[str, str], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[name]}"}


def test_pairs_hash_and_decision(api: Api) -> None:
    client, tokens, items, case = api
    pairs = client.get(f"{V}/cases/{case}/duplicates", headers=_as(tokens, "viewer"))
    assert pairs.status_code == 200
    assert [(p["status"], {p["a"], p["b"]}) for p in pairs.json()] == [
        ("possible", {items["a.jpg"], items["b.jpg"]})]
    assert pairs.json()[0]["distance"] <= 31 and pairs.json()[0]["algorithm"] == "pdq"
    mine = client.get(f"{V}/cases/{case}/items/{items['a.jpg']}/duplicates",
                      headers=_as(tokens, "viewer")).json()
    assert mine["hash"]["algorithm"] == "pdq" and len(mine["hash"]["hash"]) == 64
    assert mine["hash"]["quality"] >= 50 and len(mine["pairs"]) == 1
    body = {"a": items["b.jpg"], "b": items["a.jpg"], "decision": "confirmed", "note": "same"}
    refused = client.post(f"{V}/cases/{case}/duplicates/decisions", json=body,
                          headers=_as(tokens, "viewer"))
    assert refused.status_code == 403
    done = client.post(f"{V}/cases/{case}/duplicates/decisions", json=body,
                       headers=_as(tokens, "analyst"))
    assert done.status_code == 201 and done.json()["status"] == "confirmed"
    assert done.json()["decided_by"] == "analyst"
    bad = client.post(f"{V}/cases/{case}/duplicates/decisions",
                      json={**body, "decision": "maybe"}, headers=_as(tokens, "analyst"))
    assert bad.status_code == 422
    same = client.post(f"{V}/cases/{case}/duplicates/decisions",
                       json={**body, "b": items["b.jpg"]}, headers=_as(tokens, "analyst"))
    assert same.status_code == 422 and "itself" in same.text
    for url in (f"{V}/cases/{case}/duplicates",
                f"{V}/cases/{case}/items/{items['a.jpg']}/duplicates"):
        assert client.get(url, headers=_as(tokens, "stranger")).status_code == 403
        assert client.get(url).status_code == 401
