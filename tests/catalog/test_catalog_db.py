"""The catalog on SQLite and PostgreSQL alike: settings, ``init --catalog-url``, values that
differ between dialects, the dump ``svidok verify`` compares, two writers at once.

Dialect-parametrised tests run on PostgreSQL only when ``SVIDOK_TEST_PG_URL`` is set
(never skipped); the rest of the suite runs there too through tests/conftest.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import DIALECTS, random_bytes, run_ingest, write
from svidok.catalog import Catalog, CatalogError, schema
from svidok.catalog.db import parse_url, safe_url
from svidok.config import CONFIG_FILE, Config
from svidok.errors import ConfigError
from svidok.home import Home
from svidok.ledger.entries import Draft, Entry
from svidok.verify import verify

CLI = [sys.executable, "-m", "svidok"]
SECRET = "s3cr3t-Pa55"


@pytest.fixture(params=DIALECTS)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty catalog database of the parametrised dialect."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("fresh_catalog_url"))
        assert url.startswith("postgresql")
        return url
    return f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"


@pytest.fixture()
def catalog(catalog_url: str) -> Iterator[Catalog]:
    cat = Catalog.connect(catalog_url)
    cat.migrate()
    try:
        yield cat
    finally:
        cat.close()


# ---------------------------------------------------------------------- settings
def test_catalog_url_round_trips_through_svidok_toml(tmp_path: Path) -> None:
    url = "postgresql+psycopg://svidok@db.example.org:5433/svidok_bucha?sslmode=verify-full"
    cfg = Config.new("svidok.test/x", catalog_url=url)
    (tmp_path / CONFIG_FILE).write_text(cfg.to_toml())
    assert Config.load(tmp_path / CONFIG_FILE) == cfg
    plain = Config.new("svidok.test/x")
    assert "\nurl = " not in plain.to_toml()
    (tmp_path / CONFIG_FILE).write_text(plain.to_toml())
    assert Config.load(tmp_path / CONFIG_FILE).catalog_url is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"mysql://root:{SECRET}@db/x", "SQLite or PostgreSQL"),
        (f"postgresql+psycopg2://u:{SECRET}@db/x", "psycopg"),
        ("sqlite:///relative.sqlite", "absolute"),
        ("sqlite://", "absolute"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_catalog_urls_are_refused_without_showing_the_password(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        Config.new(catalog_url=url)
    assert SECRET not in str(caught.value)
    toml = Config.new().to_toml() + f"url = {json.dumps(url)}\n"
    (tmp_path / CONFIG_FILE).write_text(toml)
    with pytest.raises(ConfigError, match=r"catalog\.url") as caught:
        Config.load(tmp_path / CONFIG_FILE)
    assert SECRET not in str(caught.value)


def test_urls_in_messages_hide_the_password() -> None:
    url = f"postgresql://svidok:{SECRET}@127.0.0.1:1/nothing"
    assert parse_url(url).drivername == "postgresql+psycopg"  # psycopg 3 for a bare URL
    assert SECRET not in safe_url(url) and "***" in safe_url(url)
    with pytest.raises(CatalogError) as caught:  # nothing listens on port 1
        Catalog.create(url, Path("/nonexistent"))
    assert SECRET not in str(caught.value)
    assert "svidok:***@127.0.0.1:1/nothing" in str(caught.value)


# ---------------------------------------------------------------- init and homes
def test_init_catalog_url_writes_the_setting_and_the_home_works(
    tmp_path: Path, catalog_url: str
) -> None:
    home = tmp_path / "home"
    created = subprocess.run(
        [*CLI, "--home", str(home), "init", "--catalog-url", catalog_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    assert Config.load(home / CONFIG_FILE).catalog_url == catalog_url
    assert not (home / "catalog.sqlite").exists()
    write(tmp_path / "src" / "a.bin", random_bytes(1, 5000))
    with Home.open(home) as h:
        assert h.catalog.engine.url.get_backend_name() == catalog_url.split(":")[0].split("+")[0]
        report = run_ingest(h, tmp_path / "src")
        assert report.ok
        with h.catalog.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(schema.objects)).scalar() == 1
    with Home.open(home) as h:
        assert verify(h).ok
    again = subprocess.run(
        [*CLI, "--home", str(tmp_path / "other"), "init", "--catalog-url", catalog_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert again.returncode == 2 and "is not empty" in again.stderr, again.stderr
    assert "Traceback" not in again.stderr
    assert not (tmp_path / "other").exists()


def test_default_catalog_is_sqlite_in_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SVIDOK_CATALOG_URL", raising=False)
    home = tmp_path / "home"
    Home.init(home, origin="svidok.test/sqlite", catalog_url=None)
    assert Config.load(home / CONFIG_FILE).catalog_url is None
    assert (home / "catalog.sqlite").is_file()
    with Home.open(home) as h:
        assert h.catalog.engine.dialect.name == "sqlite"
        assert h.catalog.applied() == 2


def test_an_init_that_stopped_after_the_tables_can_be_run_again(
    tmp_path: Path, catalog_url: str
) -> None:
    Catalog.create(catalog_url, tmp_path / "unused.sqlite").close()  # tables, no entries
    Home.init(tmp_path / "home", origin="svidok.test/again", catalog_url=catalog_url)
    with Home.open(tmp_path / "home") as h:
        assert h.catalog.applied() == 2


# ------------------------------------------------------------- values and dumps
def _entries(start: int = 0) -> list[Entry]:
    drafts = [
        Draft("init", "tester", {"home": "h", "origin": "svidok.test/big", "vkey": "k"}),
        Draft(
            "acquisition",
            "Олена",
            {
                "object": "sha256:" + "ab" * 32,
                "size": 5 * 2**40,  # beyond 32 bits
                "media_type": "video/mp4",
                "logical_path": "content/Свідок.mp4",
                "case": "bucha-2022",
                "collector": "Олена",
                "source": None,
                "note": "ünïcode ✓ 'quoted' \\ back",
                "path": {"utf8": "/evidence/Свідок.mp4"},
                "name": {"utf8": "Свідок.mp4"},
                "file": {"mtime_ns": "1650000000123456789"},
                "acquired_at": "2022-04-03T10:00:00Z",
                "new_object": True,
            },
        ),
        Draft(
            "verification",
            "tester",
            {"result": "intact", "problems": 0, "tree_size": 2**33},
        ),
    ]
    return [Entry.create(d, start + i) for i, d in enumerate(drafts)]


def test_large_and_unicode_values_dump_equal_to_sqlite_in_memory(catalog: Catalog) -> None:
    batch = _entries()
    catalog.apply(batch)
    fresh = Catalog.in_memory()
    try:
        fresh.apply(batch)
        assert catalog.dump() == fresh.dump()
    finally:
        fresh.close()
    dumped = catalog.dump()
    assert dumped["objects"][0][1] == 5 * 2**40
    assert dumped["acquisitions"][0][-1] is True
    assert dumped["verifications"][0][-1] == 2**33
    assert catalog.applied() == 3


def test_dump_orders_text_keys_by_code_point(catalog: Catalog) -> None:
    keys = ["b", "B", "a", "_z", "Z", "é", "ä"]
    with catalog.engine.begin() as conn:
        conn.execute(schema.meta.insert(), [{"key": k, "value": "x"} for k in keys])
    got = [row[0] for row in catalog.dump()["meta"]]
    assert got == sorted([*keys, "applied"])


# -------------------------------------------------------------- two writers
def test_two_writers_at_once_never_apply_twice(catalog: Catalog, catalog_url: str) -> None:
    """Svidok serialises writers with the ledger lock; the catalog holds even without it."""
    catalog.apply(_entries()[:1])
    batch = _entries()[1:]
    others = [Catalog.connect(catalog_url) for _ in range(4)]
    start = threading.Barrier(len(others))
    outcomes: list[str] = []

    def write_batch(cat: Catalog) -> None:
        start.wait()
        try:
            cat.apply(batch)
            outcomes.append("applied")
        except CatalogError as exc:
            outcomes.append("refused" if "cannot apply from entry 1" in str(exc) else repr(exc))
        except Exception as exc:  # SQLite: the losing writer may find the database locked
            outcomes.append("locked" if "locked" in str(exc) else repr(exc))

    threads = [threading.Thread(target=write_batch, args=(c,)) for c in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in others:
        c.close()
    assert outcomes.count("applied") == 1, outcomes
    allowed = {"applied", "refused"} if catalog.engine.dialect.name == "postgresql" else {
        "applied",
        "refused",
        "locked",
    }
    assert set(outcomes) <= allowed, outcomes
    assert catalog.applied() == 3
    with catalog.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.entries)).scalar() == 3
