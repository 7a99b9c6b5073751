"""Sign-in, CSRF, throttling, token scope, and the evidence round trip through the API."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from fastapi.testclient import TestClient

from svidok.api.app import PREFIX as V
from svidok.api.deps import CSRF_HEADER, SESSION_COOKIE
from svidok.home import Home

from .conftest import PASSWORD, UPLOAD_LIMIT, World, error_code


def test_sign_in_csrf_and_sign_out(world: World, client: TestClient) -> None:
    client.cookies.clear()
    wrong = client.post(f"{V}/session", json={"username": "olena", "password": "x" * 12})
    assert wrong.status_code == 401 and error_code(wrong) == "unauthenticated"
    signed = client.post(f"{V}/session", json={"username": "olena", "password": PASSWORD})
    assert signed.status_code == 201
    cookie = signed.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    csrf = signed.json()["csrf_token"]
    assert client.get(f"{V}/cases").status_code == 200
    body = {"reference": "SESSION-1", "title": "Made in a browser"}
    refused = client.post(f"{V}/cases", json=body)
    assert refused.status_code == 403 and error_code(refused) == "csrf"
    assert client.post(f"{V}/cases", json=body, headers={CSRF_HEADER: "nope"}).status_code == 403
    assert client.post(f"{V}/cases", json=body, headers={CSRF_HEADER: csrf}).status_code == 201
    assert client.delete(f"{V}/session", headers={CSRF_HEADER: csrf}).status_code == 204
    client.cookies.set(SESSION_COOKIE, signed.cookies[SESSION_COOKIE])
    gone = client.get(f"{V}/cases")
    assert gone.status_code == 401
    client.cookies.clear()


def test_sign_in_is_throttled(world: World) -> None:
    from svidok.api import create_app

    app = create_app(world.home_path)
    with TestClient(app, base_url="https://testserver", client=("198.51.100.7", 1)) as c:
        codes = [
            c.post(f"{V}/session", json={"username": "viktor", "password": "wrong" * 3}).status_code
            for _ in range(7)
        ]
        assert codes[:5] == [401] * 5 and 429 in codes[5:]
        last = c.post(f"{V}/session", json={"username": "viktor", "password": PASSWORD})
        assert last.status_code == 429 and "retry-after" in last.headers
        assert error_code(last) == "throttled"


def test_token_scope_limits_the_cases(world: World, client: TestClient) -> None:
    client.cookies.clear()
    scoped = world.token("taras", [world.own.id])
    other = world.work.create_case(
        world.work.user(world.users["taras"]) and _actor(world, "taras"),
        {"reference": "TARAS-2", "title": "Another"},
    )
    headers = {"Authorization": f"Bearer {scoped}"}
    listed = client.get(f"{V}/cases", headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [world.own.id]
    assert client.get(f"{V}/cases/{other.id}", headers=headers).status_code == 403
    full = client.get(f"{V}/cases/{other.id}", headers=world.headers("taras"))
    assert full.status_code == 200
    bad = client.get(f"{V}/cases", headers={"Authorization": "Bearer svidok_nonsense"})
    assert bad.status_code == 401 and error_code(bad) == "unauthenticated"


def _actor(world: World, name: str):  # type: ignore[no-untyped-def]
    from svidok.cases.access import Actor

    return Actor(name=name, user_id=world.users[name])


def test_upload_download_round_trip_is_recorded(world: World, client: TestClient) -> None:
    client.cookies.clear()
    data = os.urandom(300_000)
    case = world.own.id
    made = client.post(
        f"{V}/cases/{case}/items/upload",
        params={"filename": "../clip.mp4", "title": "Clip"},
        content=data,
        headers=world.headers("taras"),
    )
    assert made.status_code == 201, made.text
    item = made.json()
    assert item["fields"]["object"] == "sha256:" + hashlib.sha256(data).hexdigest()
    got = client.get(
        f"{V}/cases/{case}/items/{item['id']}/original", headers=world.headers("viktor")
    )
    assert got.status_code == 200 and got.content == data
    assert got.headers["etag"] == f'"{item["fields"]["object"]}"'
    with Home.open(world.home_path) as fresh:  # the API's own Home wrote it
        access = [e for e in fresh.ledger.iter_entries() if e.type == "access"][-1]
    assert access.actor == "viktor"
    assert access.data["record"] == item["id"] and access.data["object"] == item["fields"]["object"]
    assert access.data["action"] == "download"
    receipt = client.get(
        f"{V}/cases/{case}/items/{item['id']}/receipt", headers=world.headers("viktor")
    )
    assert receipt.status_code == 200 and receipt.text.startswith("c2sp.org/tlog-proof")
    from svidok.receipts import check_receipt

    assert check_receipt(receipt.text, world.home.verifier, hashlib.sha256(data).hexdigest()).ok


def _chunks(total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * 65536
        sent += 65536


def test_uploads_over_the_limit_are_refused(world: World, client: TestClient) -> None:
    client.cookies.clear()
    url = f"{V}/cases/{world.own.id}/items/upload"
    headers = world.headers("taras")
    big = client.post(
        url, params={"filename": "a"}, content=b"x" * (UPLOAD_LIMIT + 1), headers=headers
    )
    assert big.status_code == 413 and error_code(big) == "too_large"
    streamed = client.post(
        url, params={"filename": "a"}, content=_chunks(UPLOAD_LIMIT + 65536), headers=headers
    )
    assert streamed.status_code == 413
    forbidden = client.post(
        url, params={"filename": "a"}, content=b"x", headers=world.headers("viktor")
    )
    assert forbidden.status_code == 403


def test_items_cannot_claim_objects_of_other_cases(world: World, client: TestClient) -> None:
    client.cookies.clear()
    foreign_obj = world.work.get(_actor(world, "stan"), world.foreign.id, world.foreign.evidence)
    made = client.post(
        f"{V}/cases/{world.own.id}/items",
        json={"title": "Stolen", "object": foreign_obj.fields["object"]},
        headers=world.headers("taras"),
    )
    assert made.status_code == 422 and error_code(made) == "invalid"


def test_errors_share_one_envelope(world: World, client: TestClient) -> None:
    client.cookies.clear()
    h = world.headers("olena")
    assert error_code(client.get(f"{V}/cases/not-a-uuid", headers=h)) == "invalid"
    assert error_code(client.get(f"{V}/nothing", headers=h)) == "not_found"
    missing = client.get(f"{V}/cases/{world.own.id}/places/{world.own.records['item']}", headers=h)
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    stale = client.patch(
        f"{V}/cases/{world.own.id}/places/{world.own.records['place']}",
        json={"changes": {"description": "x"}, "version": 999},
        headers=h,
    )
    assert stale.status_code == 409 and error_code(stale) == "conflict"
    doc = client.get(f"{V}/openapi.json").json()
    assert doc["info"]["version"] == "1"
