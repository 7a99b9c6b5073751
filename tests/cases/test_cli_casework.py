"""The casework commands, run as users run them: a separate process per command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest

from svidok.auth.store import AuthStore
from svidok.home import Home


def svidok(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "svidok", *args, "--home", str(home)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture()
def made(home_path: Path) -> Path:
    return home_path  # an initialised data home


def test_users_cases_roles_tokens_and_rebuild(made: Path) -> None:
    weak = svidok(made, "user", "add", "olena", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "Traceback" not in weak.stderr and "short" not in weak.stderr
    assert json.loads(svidok(made, "user", "list", "--json").stdout) == []

    added = svidok(
        made, "user", "add", "olena", "--password-stdin", "--json", stdin="correct horse battery\n"
    )
    assert added.returncode == 0, added.stderr
    user = json.loads(added.stdout)
    assert (
        svidok(
            made, "user", "add", "taras", "--password-stdin", stdin="another long passphrase\n"
        ).returncode
        == 0
    )
    assert (
        svidok(
            made, "user", "add", "OLENA", "--password-stdin", stdin="correct horse battery\n"
        ).returncode
        == 2
    )

    case = svidok(
        made, "case", "create", "UA-2022-117", "--title", "Bucha", "--owner", "olena", "--json"
    )
    assert case.returncode == 0, case.stderr
    case_id = json.loads(case.stdout)["id"]
    assert svidok(made, "case", "grant", "UA-2022-117", "taras", "viewer").returncode == 0
    bad_role = svidok(made, "case", "grant", "UA-2022-117", "taras", "emperor")
    assert bad_role.returncode == 2 and "owner, investigator" in bad_role.stderr
    last_owner = svidok(made, "case", "grant", "UA-2022-117", "olena", "viewer")
    assert last_owner.returncode == 2 and "last owner" in last_owner.stderr
    assert svidok(made, "case", "revoke", case_id, "taras").returncode == 0

    token = svidok(
        made, "token", "create", "olena", "--case", "UA-2022-117", "--days", "7", "--json"
    )
    assert token.returncode == 0, token.stderr
    issued = json.loads(token.stdout)
    ledger = (made / "ledger" / "entries.jsonl").read_text(encoding="utf-8")
    assert issued["token"] not in ledger and "correct horse" not in ledger
    store = AuthStore.for_home(made)
    try:
        info = store.authenticate_token(issued["token"])
        assert info.user == UUID(user["id"]) and info.cases == frozenset({UUID(case_id)})
    finally:
        store.close()
    assert svidok(made, "token", "revoke", issued["id"]).returncode == 0

    with Home.open(made) as h:
        before = h.catalog.dump()
    rebuilt = svidok(made, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    with Home.open(made) as h:
        assert h.catalog.dump() == before
    assert svidok(made, "verify").returncode == 0


def test_ingest_into_a_case_makes_its_items(made: Path, tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_samples", Path(__file__).resolve().parents[2] / "examples" / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    samples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(samples)
    src = tmp_path / "evidence"
    src.mkdir()
    samples.make_jpeg(src / "street.jpg", seed=1)
    (src / "statement.txt").write_text("Свідчення\n", encoding="utf-8")

    assert svidok(made, "ingest", str(src), "--case", "NO-SUCH", "--collector", "c").returncode == 0
    assert svidok(made, "case", "create", "UA-7", "--title", "t").returncode == 0
    first = svidok(made, "ingest", str(src), "--case", "UA-7", "--collector", "c")
    assert first.returncode == 0 and "2 new items in case UA-7" in first.stdout, first.stdout
    again = svidok(made, "ingest", str(src), "--case", "UA-7", "--collector", "c")
    assert "0 new items" in again.stdout
    from svidok.cases.access import Actor
    from svidok.cases.service import open_casework
    from svidok.cases.views import RecordFilter

    with Home.open(made) as h:
        work = open_casework(h)
        op = Actor.operator("t")
        case = work.find_case(op, "UA-7")
        items = {r.label: r for r in work.find(op, case.id, RecordFilter(kind="item")).items}
    assert set(items) == {"street.jpg", "statement.txt"}
    photo = items["street.jpg"].fields
    assert photo["item_kind"] == "photo" and "captured" in photo and "location" in photo
    assert items["statement.txt"].fields["item_kind"] == "document"
