"""Working tables of a case: items and incidents as CSV (spreadsheets) and GeoJSON (QGIS)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_samples
from svidok.cases.access import Actor
from svidok.cases.service import open_casework
from svidok.demo import run_demo
from svidok.export.tables import table
from svidok.home import Home

OP = Actor.operator("tester")
CLI = [sys.executable, "-m", "svidok"]


@pytest.fixture()
def demo_home(home_path: Path, tmp_path: Path) -> Path:
    with Home.open(home_path) as home:
        run_demo(home, OP, write_samples(tmp_path / "samples"))
    return home_path


def test_items_and_incidents_as_csv_and_geojson(demo_home: Path) -> None:
    with Home.open(demo_home) as home:
        work = open_casework(home)
        rows = list(csv.DictReader(io.StringIO(table(work, OP, "demo", "items", "csv"))))
        incidents = json.loads(table(work, OP, "demo", "incidents", "geojson"))
        listed = list(csv.DictReader(io.StringIO(table(work, OP, "demo", "incidents", "csv"))))
    assert len(rows) == 8
    photo = next(r for r in rows if r["title"] == "bucha-street.jpg")
    assert photo["item_kind"] == "photo" and float(photo["latitude"]) == pytest.approx(50.5436)
    assert len(photo["sha256"]) == 64 and photo["media_type"] == "image/jpeg"
    assert incidents["type"] == "FeatureCollection" and incidents["features"]
    for feature in incidents["features"]:  # RFC 7946: longitude first
        lon, lat = feature["geometry"]["coordinates"]
        assert 22 < lon < 41 and 44 < lat < 53  # Ukraine
        assert feature["properties"]["kind"] == "incident"
    assert len(listed) == 3 and all(r["kind"] == "incident" for r in listed)


def test_formula_cells_are_neutralised(demo_home: Path) -> None:
    with Home.open(demo_home) as home:
        work = open_casework(home)
        case = work.find_case(OP, "demo").id
        work.create(OP, case, "incident", {"title": '=HYPERLINK("http://evil","x")'})
        text = table(work, OP, "demo", "incidents", "csv")
    assert "'=HYPERLINK" in text and ',=HYPERLINK' not in text


def test_cli_export_table(demo_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.geojson"
    done = subprocess.run([*CLI, "--home", str(demo_home), "export-table", "--case", "demo",
                           "--kind", "items", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["features"]
    again = subprocess.run([*CLI, "--home", str(demo_home), "export-table", "--case", "demo",
                            "--kind", "items", "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and "exists already" in again.stderr
    bad = subprocess.run([*CLI, "--home", str(demo_home), "export-table", "--case", "demo",
                          "--kind", "people", "--out", str(tmp_path / "p.xlsx")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
