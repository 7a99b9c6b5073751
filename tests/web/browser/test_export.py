"""Export from the web app: the case's menu leads an owner to the form, which names the
recipient and purpose, chooses the items of an incident and downloads a package that
checks out offline; a reviewer sees no such menu entry and is refused the page."""

from __future__ import annotations

import zipfile
from pathlib import Path

from svidok.export import verify_package as vp

from .conftest import CASE, Browse, Site, status_of


def test_owner_exports_an_incident_and_downloads_the_package(
    browse: Browse, site: Site, tmp_path: Path
) -> None:
    page = browse.page("alice")
    page.goto(f"/cases/{CASE}")
    page.get_by_role("navigation", name="Case").get_by_role("link", name="Export").click()
    page.wait_for_url(f"**/cases/{CASE}/export")
    assert page.locator("#protected-warning").is_visible()
    page.get_by_label("Recipient (who receives the package)").fill("Office of the Prosecutor")
    page.get_by_label("Purpose (why it is handed over)").fill("Criminal proceedings 12022")
    page.get_by_label("The items of an incident").check()
    page.get_by_label("Incident", exact=True).select_option(site.records["incident"])
    with page.expect_download() as info:
        page.get_by_role("button", name="Export and download").click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename.startswith(f"svidok-{CASE}") and (
        download.suggested_filename.endswith(".zip")
    )
    package = tmp_path / download.suggested_filename
    download.save_as(package)
    vkey = (site.path / "keys" / "ledger.pub").read_text().strip()
    report = vp.verify(package, vkey)
    assert report.ok, report.problems
    assert report.facts["items"] == 1 and report.facts["exported_by"] == "alice"
    assert report.facts["recipient"] == "Office of the Prosecutor"
    with zipfile.ZipFile(package) as z:
        readme = next(n for n in z.namelist() if n.endswith("README.txt"))
        assert "Criminal proceedings 12022" in z.read(readme).decode()
    assert not list(site.state.staging_dir.iterdir())  # removed once sent


def test_reviewer_has_no_export(browse: Browse, site: Site) -> None:
    page = browse.page("bob")
    page.goto(f"/cases/{CASE}")
    menu = page.get_by_role("navigation", name="Case")
    assert menu.get_by_role("link", name="Items").count() == 1
    assert menu.get_by_role("link", name="Export").count() == 0
    assert status_of(page, f"/cases/{CASE}/export") == 403
