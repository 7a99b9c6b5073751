"""Packages through the JSON API: a zip that checks out offline, recorded as the caller's
export; refused to roles that may not export, and for selections that hold nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from fastapi.testclient import TestClient

from svidok.api.app import PREFIX as V
from svidok.export import verify_package as vp
from svidok.home import Home

from .conftest import World, error_code


def test_export_through_the_api(world: World, client: TestClient, tmp_path: Path) -> None:
    client.cookies.clear()
    case = world.own.id
    data = os.urandom(5000)
    made = client.post(f"{V}/cases/{case}/items/upload", params={"filename": "scene.jpg"},
                       content=data, headers=world.headers("taras"))
    assert made.status_code == 201, made.text
    item = made.json()["id"]
    body = {"recipient": "Office of the Prosecutor General", "purpose": "indictment",
            "items": [item]}
    got = client.post(f"{V}/cases/{case}/exports", json=body, headers=world.headers("taras"))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert "attachment" in got.headers["content-disposition"]
    package = tmp_path / "package.zip"
    package.write_bytes(got.content)
    vkey = (world.home_path / "keys" / "ledger.pub").read_text().strip()
    report = vp.verify(package, vkey)
    assert report.ok, report.problems
    assert report.facts["items"] == 1 and report.facts["exported_by"] == "taras"
    digest = hashlib.sha256(data).hexdigest()
    import zipfile

    with zipfile.ZipFile(package) as z:
        names = z.namelist()
        # random bytes: the type comes from the content, not the name
        assert any(n.endswith(f"data/originals/{digest}.bin") for n in names)
    with Home.open(world.home_path) as fresh:
        export = [e for e in fresh.ledger.iter_entries() if e.type == "export"][-1]
    assert export.actor == "taras" and export.data["recipient"] == body["recipient"]

    refused = client.post(f"{V}/cases/{case}/exports", json=body,
                          headers=world.headers("viktor"))
    assert refused.status_code == 403
    empty = client.post(f"{V}/cases/{case}/exports", headers=world.headers("taras"),
                        json={**body, "items": [], "query": "no title has this"})
    assert empty.status_code == 422 and "no items" in empty.json()["error"]["message"]
    assert error_code(empty)
    bad = client.post(f"{V}/cases/{case}/exports", headers=world.headers("taras"),
                      json={"recipient": "", "purpose": "x"})
    assert bad.status_code == 422
