"""The server never sends a page that loads code from elsewhere (it must work air-gapped,
and a script from another origin would run with the user's session)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

import svidok.api
import svidok.web

API_SOURCE = Path(svidok.api.__file__).resolve().parent
WEB_SOURCE = Path(svidok.web.__file__).resolve().parent
REMOTE_SRC = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_no_docs_page_is_served(client: TestClient) -> None:
    for path in ("/api/v1/docs", "/docs", "/redoc", "/api/v1/redoc"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "swagger-ui" not in response.text and "redoc.standalone" not in response.text
        if path.startswith("/api/"):
            assert "text/html" not in response.headers.get("content-type", "")
        else:  # the web app's own "not found" page: nothing from elsewhere
            assert not REMOTE_SRC.search(response.text), path
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.headers["content-type"].startswith("application/json")


def test_api_code_names_no_remote_script_or_style() -> None:
    remote = re.compile(r"https?://[^\s\"']*\.(?:js|css)\b|cdn\.|jsdelivr|unpkg", re.IGNORECASE)
    found = [
        f"{path.name}: {m.group(0)}"
        for source in (API_SOURCE, WEB_SOURCE)
        for path in sorted(source.rglob("*.[ph][yt]*"))
        if path.suffix in {".py", ".html", ".js"} and "vendor" not in path.parts
        for m in remote.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
