"""The server never sends a page that loads code from elsewhere (it must work air-gapped,
and a script from another origin would run with the user's session)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

import svidok.api

API_SOURCE = Path(svidok.api.__file__).resolve().parent


def test_no_docs_page_is_served(client: TestClient) -> None:
    for path in ("/api/v1/docs", "/docs", "/redoc", "/api/v1/redoc"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" not in response.headers.get("content-type", "")
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.headers["content-type"].startswith("application/json")


def test_api_code_names_no_remote_script_or_style() -> None:
    remote = re.compile(r"https?://[^\s\"']*\.(?:js|css)\b|cdn\.|jsdelivr|unpkg", re.IGNORECASE)
    found = [
        f"{path.name}: {m.group(0)}"
        for path in sorted(API_SOURCE.rglob("*.py"))
        for m in remote.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
