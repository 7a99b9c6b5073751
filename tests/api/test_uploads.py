"""Resumable uploads (tus 1.0.0): an independent client (tuspy) against a real server, a
connection cut mid-body and resumed, and every refusal the protocol and Svidok require."""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from tusclient.client import TusClient

from svidok.api import create_app
from svidok.api.app import PREFIX as V
from svidok.api.deps import CSRF_HEADER
from svidok.api.uploads import MAX_OPEN, OFFSET_MEDIA_TYPE, UploadStore, parse_metadata
from svidok.cases.access import Role

from .conftest import OPERATOR, PASSWORD, UPLOAD_LIMIT, World, error_code

TUS = {"Tus-Resumable": "1.0.0"}
SERVER_LIMIT = 64 << 20


def meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def creation(length: int, **values: str) -> dict[str, str]:
    return {**TUS, "Upload-Length": str(length), "Upload-Metadata": meta(**values)}


def patching(offset: int) -> dict[str, str]:
    return {**TUS, "Content-Type": OFFSET_MEDIA_TYPE, "Upload-Offset": str(offset)}


def uploads_root(world: World) -> Path:
    return world.home_path / "work" / "uploads"


def create(client: Any, world: World, who: str, length: int, **values: str) -> str:
    values.setdefault("filename", "photo.jpg")
    made = client.post(
        f"{V}/cases/{world.own.id}/uploads",
        headers={**world.headers(who), **creation(length, **values)},
    )
    assert made.status_code == 201, made.text
    location = str(made.headers["location"])
    assert location.startswith(f"{V}/cases/{world.own.id}/uploads/")
    return location


def items_with(client: Any, world: World, who: str, object_id: str) -> list[dict[str, Any]]:
    page = client.get(
        f"{V}/cases/{world.own.id}/items", headers=world.headers(who), params={"object": object_id}
    ).json()
    assert page["total"] == len(page["items"]), page
    return [r for r in page["items"] if r["fields"].get("object") == object_id]


def digest_of(client: Any, world: World, who: str, record: str) -> str:
    meta_ = client.get(
        f"{V}/cases/{world.own.id}/items/{record}/metadata", headers=world.headers(who)
    )
    assert meta_.status_code == 200, meta_.text
    return str(meta_.json()["sha256"])


# ---------------------------------------------------------------- a real server, tuspy
@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(world.home_path, upload_limit=SERVER_LIMIT)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=2)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(20)
        sock.close()


def test_tuspy_uploads_several_files(world: World, server: str, tmp_path: Path) -> None:
    auth = world.headers("taras")
    tus = TusClient(f"{server}{V}/cases/{world.own.id}/uploads", headers=auth)
    sizes = {"one-byte.bin": 1, "small photo.jpg": 70_001, "video.mp4": 5 * (1 << 20) + 7}
    with httpx.Client(base_url=server, headers=auth) as http:
        for name, size in sizes.items():
            path = tmp_path / name
            path.write_bytes(os.urandom(size))
            uploader = tus.uploader(
                str(path),
                chunk_size=1 << 20,  # several PATCH requests for the large one
                metadata={"filename": name, "item_kind": "video", "title": f"Title {name}"},
            )
            uploader.upload()
            assert uploader.url is not None
            head = http.head(uploader.url, headers=TUS)
            assert head.status_code == 200
            assert head.headers["upload-offset"] == head.headers["upload-length"] == str(size)
            assert head.headers["cache-control"] == "no-store"
            record = head.headers["svidok-record"]
            item = http.get(f"{V}/cases/{world.own.id}/items/{record}").json()
            want = hashlib.sha256(path.read_bytes()).hexdigest()
            assert item["fields"]["object"] == f"sha256:{want}"
            assert item["fields"]["title"] == f"Title {name}"
            assert item["fields"]["item_kind"] == "video"
            evidence = http.get(f"{V}/cases/{world.own.id}/items/{record}/metadata").json()
            assert evidence["sha256"] == want and evidence["size"] == size
            acquired = evidence["acquisitions"]
            assert [a["name"] for a in acquired] == [name], acquired
            assert acquired[0]["source"] == "JSON API resumable upload (tus)"
            assert acquired[0]["collector"] == "taras"
            status = http.get(uploader.url).json()
            assert status["finished"] is True and status["record"] == record
            assert status["offset"] == status["length"] == size
            # the partial data is gone once preserved
            upload_id = uploader.url.rsplit("/", 1)[1]
            assert not (uploads_root(world) / upload_id / "data").exists()


def _raw_patch(server: str, path: str, token: str, offset: int, length: int) -> socket.socket:
    host, port = server.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Tus-Resumable: 1.0.0\r\nContent-Type: {OFFSET_MEDIA_TYPE}\r\n"
        f"Upload-Offset: {offset}\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode())
    return sock


def _offset(http: httpx.Client, url: str) -> int:
    return int(http.head(url, headers=TUS).headers["upload-offset"])


def test_resume_after_the_connection_drops(world: World, server: str) -> None:
    data = os.urandom(3 << 20)
    half = len(data) // 2
    token = world.tokens["olena"]
    with httpx.Client(base_url=server, headers=world.headers("olena")) as http:
        url = create(http, world, "olena", len(data), filename="cut.bin")
        sock = _raw_patch(server, url, token, 0, len(data))
        sock.sendall(data[:half])
        time.sleep(0.5)  # the server has read what was sent
        # meanwhile another PATCH of the same upload is refused, not interleaved
        other = http.patch(url, headers=patching(0), content=b"x")
        assert other.status_code == 423 and error_code(other) == "locked"
        # an abrupt close (RST), in the middle of the body
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        deadline = time.monotonic() + 10
        while (kept := _offset(http, url)) == 0:
            assert time.monotonic() < deadline, "nothing of the body was kept"
            time.sleep(0.05)
        assert 0 < kept <= half
        assert (uploads_root(world) / url.rsplit("/", 1)[1] / "data").stat().st_size == kept
        for _ in range(100):  # the server may still be letting go of the cut request
            resumed = http.patch(url, headers=patching(kept), content=data[kept:])
            if resumed.status_code != 423:
                break
            time.sleep(0.05)
        assert resumed.status_code == 204, resumed.text
        assert resumed.headers["upload-offset"] == str(len(data))
        record = resumed.headers["svidok-record"]
        assert digest_of(http, world, "olena", record) == hashlib.sha256(data).hexdigest()


def test_a_body_past_the_length_is_refused_whole(world: World, server: str) -> None:
    def chunked() -> Iterator[bytes]:  # no Content-Length: caught while streaming
        yield b"0" * 60_000
        time.sleep(0.3)  # the first part is received (and written) on its own
        yield b"1" * 60_000

    with httpx.Client(base_url=server, headers=world.headers("olena")) as http:
        url = create(http, world, "olena", 100_000, filename="long.bin")
        overrun = http.patch(url, headers=patching(0), content=chunked())
        assert overrun.status_code == 413 and overrun.headers["upload-offset"] == "0"
        assert _offset(http, url) == 0
        assert (uploads_root(world) / url.rsplit("/", 1)[1] / "data").stat().st_size == 0


# ------------------------------------------------------------------- in-process checks
def test_options_advertises_the_protocol(world: World, client: TestClient) -> None:
    got = client.options(f"{V}/uploads", headers=world.headers("viktor"))
    assert got.status_code == 204
    assert got.headers["tus-version"] == "1.0.0"
    assert got.headers["tus-resumable"] == "1.0.0"
    assert got.headers["tus-extension"] == "creation,termination,expiration"
    assert got.headers["tus-max-size"] == str(UPLOAD_LIMIT)
    assert client.options(f"{V}/uploads").status_code == 401


def test_creation_headers_and_staging_files(world: World, client: TestClient) -> None:
    made = client.post(
        f"{V}/cases/{world.own.id}/uploads",
        headers={**world.headers("olena"), **creation(10, filename="a.txt")},
    )
    assert made.status_code == 201
    assert made.headers["tus-resumable"] == "1.0.0"
    expires = datetime.strptime(made.headers["upload-expires"], "%a, %d %b %Y %H:%M:%S GMT")
    assert timedelta(days=6) < expires.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(7)
    upload_id = made.headers["location"].rsplit("/", 1)[1]
    assert len(upload_id) == 32 and int(upload_id, 16) >= 0
    folder = uploads_root(world) / upload_id
    assert folder.stat().st_mode & 0o777 == 0o700
    assert uploads_root(world).stat().st_mode & 0o777 == 0o700
    for name in ("info.json", "data", "lock"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
    info = json.loads((folder / "info.json").read_text())
    assert info["owner"] == world.users["olena"] and info["case"] == world.own.id
    assert info["length"] == 10 and info["offset"] == 0 and info["filename"] == "a.txt"


def test_refusals(world: World, client: TestClient) -> None:
    base = f"{V}/cases/{world.own.id}/uploads"
    auth = world.headers("olena")

    def post(headers: dict[str, str]) -> Any:
        return client.post(base, headers={**auth, **headers})

    too_big = post(creation(UPLOAD_LIMIT + 1, filename="big.bin"))
    assert too_big.status_code == 413 and error_code(too_big) == "too_large"
    no_version = post({"Upload-Length": "5", "Upload-Metadata": meta(filename="a")})
    assert no_version.status_code == 412 and no_version.headers["tus-version"] == "1.0.0"
    for headers, words in [
        ({**TUS, "Upload-Metadata": meta(filename="a")}, "Upload-Length is required"),
        (creation(-1, filename="a"), "whole number"),
        ({**creation(5), "Upload-Metadata": meta(title="no name")}, "'filename'"),
        ({**creation(5), "Upload-Metadata": "filename ***"}, "not base64"),
        ({**creation(5), "Upload-Metadata": "filename /w=="}, "not base64"),  # not UTF-8
        ({**creation(5), "Upload-Metadata": "filename YQ== extra"}, "one space"),
        ({**creation(5), "Upload-Metadata": "filename YQ==,filename Yg=="}, "twice"),
        (creation(5, filename="a", item_kind="selfie"), "item_kind"),
        (creation(5, filename="a", title="x" * 501), "title"),
        ({**creation(5, filename="a"), "Upload-Defer-Length": "1"}, "Defer"),
    ]:
        refused = post(headers)
        assert refused.status_code == 400, (headers, refused.text)
        assert error_code(refused) == "bad_request"
        assert words in refused.json()["error"]["message"], refused.text
    assert post(creation(0, filename="a")).status_code == 422
    # metadata: keys without values, unknown keys ignored
    assert parse_metadata("filename YS5iaW4=,is_confidential, filetype") == {
        "filename": "a.bin",
        "is_confidential": "",
        "filetype": "",
    }

    url = create(client, world, "olena", 10, filename="b.bin")
    wrong_type = client.patch(
        url,
        headers={**auth, **patching(0), "Content-Type": "application/octet-stream"},
        content=b"0",
    )
    assert wrong_type.status_code == 415 and error_code(wrong_type) == "unsupported_media_type"
    wrong_offset = client.patch(url, headers={**auth, **patching(3)}, content=b"0123")
    assert wrong_offset.status_code == 409 and wrong_offset.headers["upload-offset"] == "0"
    too_long = client.patch(url, headers={**auth, **patching(0)}, content=b"0" * 11)
    assert too_long.status_code == 413
    no_offset = client.patch(
        url, headers={**auth, **TUS, "Content-Type": OFFSET_MEDIA_TYPE}, content=b"0"
    )
    assert no_offset.status_code == 400

    part = client.patch(url, headers={**auth, **patching(0)}, content=b"01234")
    assert part.status_code == 204 and part.headers["upload-offset"] == "5"
    assert "svidok-record" not in part.headers
    status = client.get(url, headers=auth).json()
    assert status["offset"] == 5 and status["finished"] is False and status["record"] is None


def test_only_the_creator_and_editors(world: World, client: TestClient) -> None:
    url = create(client, world, "olena", 4, filename="mine.bin")
    for who in ("taras",):  # an investigator of the same case, but not its creator
        other = world.headers(who)
        assert client.head(url, headers={**other, **TUS}).status_code == 404
        assert client.get(url, headers=other).status_code == 404
        patched = client.patch(url, headers={**other, **patching(0)}, content=b"abcd")
        assert patched.status_code == 404 and error_code(patched) == "not_found"
        assert client.delete(url, headers={**other, **TUS}).status_code == 404
    viewer = client.post(
        f"{V}/cases/{world.own.id}/uploads",
        headers={**world.headers("viktor"), **creation(4, filename="v.bin")},
    )
    assert viewer.status_code == 403 and error_code(viewer) == "forbidden"
    foreign = client.post(
        f"{V}/cases/{world.foreign.id}/uploads",
        headers={**world.headers("olena"), **creation(4, filename="f.bin")},
    )
    assert foreign.status_code == 403
    # the upload under another case's path: not found
    elsewhere = url.replace(world.own.id, world.foreign.id)
    assert client.get(elsewhere, headers=world.headers("stan")).status_code == 404
    assert client.get(url, headers=world.headers("olena")).json()["offset"] == 0


def test_ids_are_checked_before_the_file_system(world: World, client: TestClient) -> None:
    auth = world.headers("olena")
    base = f"{V}/cases/{world.own.id}/uploads"
    for bad in ("..%2f..%2fkeys", "%2e%2e", "A" * 32, "0" * 31, "0" * 33, "info.json"):
        got = client.get(f"{base}/{bad}", headers=auth)
        assert got.status_code in (404, 422), bad
    unknown = client.get(f"{base}/{'0' * 32}", headers=auth)
    assert unknown.status_code == 404
    store = UploadStore(uploads_root(world))
    for bad in ("../keys", "0" * 31 + "/", "", "0" * 31 + "\n"):
        with pytest.raises(ValueError, match="not an upload id"):
            store.folder(bad)


def test_double_completion_makes_one_item(world: World, client: TestClient) -> None:
    auth = world.headers("olena")
    data = os.urandom(1000)
    url = create(client, world, "olena", len(data), filename="once.bin")
    done = client.patch(url, headers={**auth, **patching(0)}, content=data)
    assert done.status_code == 204
    record = done.headers["svidok-record"]
    again = client.patch(url, headers={**auth, **patching(len(data))}, content=b"")
    assert again.status_code == 204 and again.headers["svidok-record"] == record
    replay = client.patch(url, headers={**auth, **patching(0)}, content=data)
    assert replay.status_code == 409
    object_id = f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert [r["id"] for r in items_with(client, world, "olena", object_id)] == [record]
    head = client.head(url, headers={**auth, **TUS})
    assert head.headers["svidok-record"] == record


def test_termination(world: World, client: TestClient) -> None:
    auth = world.headers("olena")
    url = create(client, world, "olena", 100, filename="gone.bin")
    assert client.patch(url, headers={**auth, **patching(0)}, content=b"x" * 40).status_code == 204
    folder = uploads_root(world) / url.rsplit("/", 1)[1]
    assert folder.is_dir()
    deleted = client.delete(url, headers={**auth, **TUS})
    assert deleted.status_code == 204 and deleted.headers["tus-resumable"] == "1.0.0"
    assert not folder.exists()
    assert client.head(url, headers={**auth, **TUS}).status_code == 404
    assert client.patch(url, headers={**auth, **patching(40)}, content=b"y").status_code == 404
    # a session cookie needs its CSRF token, as tus-js-client is told to send
    client.cookies.clear()
    signed = client.post(f"{V}/session", json={"username": "olena", "password": PASSWORD})
    base = f"{V}/cases/{world.own.id}/uploads"
    assert client.post(base, headers=creation(5, filename="s.bin")).status_code == 403
    csrf = {CSRF_HEADER: signed.json()["csrf_token"]}
    made = client.post(base, headers={**creation(5, filename="s.bin"), **csrf})
    assert made.status_code == 201
    url = made.headers["location"]
    assert client.patch(url, headers=patching(0), content=b"12345").status_code == 403
    assert client.patch(url, headers={**patching(0), **csrf}, content=b"12345").status_code == 204
    client.cookies.clear()


def _expire(world: World, url: str) -> None:
    path = uploads_root(world) / url.rsplit("/", 1)[1] / "info.json"
    info = json.loads(path.read_text())
    info["expires"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    path.write_text(json.dumps(info))


def test_expiry(world: World, client: TestClient) -> None:
    auth = world.headers("olena")
    seen = create(client, world, "olena", 10, filename="old.bin")
    unseen = create(client, world, "olena", 10, filename="older.bin")
    _expire(world, seen)
    _expire(world, unseen)
    gone = client.head(seen, headers={**auth, **TUS})
    assert gone.status_code == 410
    assert client.get(seen, headers=auth).status_code == 404  # removed on sight
    assert (uploads_root(world) / unseen.rsplit("/", 1)[1]).is_dir()
    create(client, world, "olena", 10, filename="new.bin")  # sweeps expired uploads
    assert not (uploads_root(world) / unseen.rsplit("/", 1)[1]).exists()


def test_unfinished_uploads_per_user_are_limited(world: World, client: TestClient) -> None:
    name = world.unique("busy")
    world.users[name] = world.work.add_user(OPERATOR, name, "Busy", admin=False).id
    world.work.grant(OPERATOR, world.own.id, world.users[name], Role.INVESTIGATOR)
    world.tokens[name] = world.token(name)
    urls = [create(client, world, name, 3, filename=f"{i}.bin") for i in range(MAX_OPEN)]
    base = f"{V}/cases/{world.own.id}/uploads"
    headers = {**world.headers(name), **creation(3, filename="one-more.bin")}
    refused = client.post(base, headers=headers)
    assert refused.status_code == 429 and error_code(refused) == "throttled"
    finished = client.patch(urls[0], headers={**world.headers(name), **patching(0)}, content=b"abc")
    assert finished.status_code == 204  # a finished upload no longer counts
    assert client.post(base, headers=headers).status_code == 201
    assert client.post(base, headers=headers).status_code == 429
    assert client.delete(urls[1], headers={**world.headers(name), **TUS}).status_code == 204
    assert client.post(base, headers=headers).status_code == 201


def test_an_upload_survives_a_restart(world: World, client: TestClient) -> None:
    auth = world.headers("taras")
    data = os.urandom(50_000)
    url = create(client, world, "taras", len(data), filename="restart.bin", item_kind="photo")
    assert (
        client.patch(url, headers={**auth, **patching(0)}, content=data[:20_000]).status_code == 204
    )
    # a crash had left bytes past the durable offset: they are cut off, never trusted
    with (uploads_root(world) / url.rsplit("/", 1)[1] / "data").open("ab") as junk:
        junk.write(b"\0" * 40_000)  # past Upload-Length, even
    with TestClient(create_app(world.home_path), base_url="https://testserver") as fresh:
        head = fresh.head(url, headers={**auth, **TUS})
        assert head.status_code == 200 and head.headers["upload-offset"] == "20000"
        done = fresh.patch(url, headers={**auth, **patching(20_000)}, content=data[20_000:])
        assert done.status_code == 204, done.text
        record = done.headers["svidok-record"]
        assert digest_of(fresh, world, "taras", record) == hashlib.sha256(data).hexdigest()
        item = fresh.get(f"{V}/cases/{world.own.id}/items/{record}", headers=auth).json()
        assert item["fields"]["item_kind"] == "photo" and item["fields"]["title"] == "restart.bin"
    assert UUID(record)


def test_staging_on_another_file_system_copies(
    world: World, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the received bytes cannot be hard-linked out for intake, they are copied (and
    hashed while copied)."""
    real_link = os.link
    linked: list[str] = []

    def no_cross_device_link(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if "svidok-upload-" in str(dst):
            linked.append(str(dst))
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", no_cross_device_link)
    auth = world.headers("olena")
    data = os.urandom(3000)
    url = create(client, world, "olena", len(data), filename="copied.bin")
    done = client.patch(url, headers={**auth, **patching(0)}, content=data)
    assert done.status_code == 204, done.text
    assert linked, "the hard link was not tried"
    digest = digest_of(client, world, "olena", done.headers["svidok-record"])
    assert digest == hashlib.sha256(data).hexdigest()
