"""Uploading several files on the upload page: resumable (tus) in 8 MiB chunks, per-file
progress, links to the new items, whose pages show the SHA-256 of what was sent."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from .conftest import CASE, Browse, load_samples, sha256_of

BIG = 12 * 1024 * 1024 + 12345  # more than one 8 MiB chunk


def test_upload_several_files_in_chunks(browse: Browse, tmp_path: Path) -> None:
    samples = load_samples()
    files = {
        "field-recording.bin": random.Random(7).randbytes(BIG),
        "statement-2.txt": b"Witness statement (fictional), uploaded in the browser.\n",
    }
    photo = samples.make_jpeg(tmp_path / "upload-photo.jpg", seed=41, size=(320, 240))
    files["upload-photo.jpg"] = photo.read_bytes()
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    digests = {name: sha256_of(data) for name, data in files.items()}

    page = browse.page("alice")
    patches: dict[str, set[int]] = {}  # upload URL -> offsets of its PATCH requests

    def sent(request: Any) -> None:
        if request.method == "PATCH":
            offset = int(request.headers.get("upload-offset", "-1"))
            patches.setdefault(request.url, set()).add(offset)

    page.on("request", sent)
    page.goto(f"/cases/{CASE}/upload")
    assert page.get_by_role("heading", name="Upload evidence").is_visible()
    page.set_input_files("#upload-files", [os.fspath(tmp_path / n) for n in files])

    rows = page.locator("#upload-list tbody tr")
    rows.nth(len(files) - 1).wait_for()
    assert rows.count() == len(files)
    for name in files:
        row = rows.filter(has_text=name)
        # every file gets to "Preserved" with a link to its item, and a full progress bar
        row.locator("a", has_text="Open item").wait_for(timeout=90_000)
        assert "Preserved" in row.locator("td.upload-status").inner_text()
        assert row.locator("progress").evaluate("p => p.value") == 100
        assert (row.get_attribute("class") or "").split() == ["done"]

    # one resumable upload per file; the big one was sent in two chunks (8 MiB, then the rest)
    assert sorted(sorted(offsets) for offsets in patches.values()) == [
        [0],
        [0],
        [0, 8 * 1024 * 1024],
    ], patches

    links = {
        name: rows.filter(has_text=name).locator("a", has_text="Open item").get_attribute("href")
        for name in files
    }
    for name, href in links.items():
        assert href and href.startswith(f"/cases/{CASE}/items/"), href
        page.goto(href)
        assert page.locator("#sha256").inner_text().strip() == digests[name], name
        assert page.get_by_role("heading", level=1).inner_text() == name
        assert page.get_by_text(f"({len(files[name])} bytes)").is_visible(), name
