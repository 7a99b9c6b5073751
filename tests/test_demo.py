"""``svidok demo``: the demo case on a fresh home, and a second run that changes nothing;
the records, links and pending review it makes; the one-time passwords of its users;
sealed protected fields. Also ``svidok user reset-password``."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from conftest import write_samples
from svidok.auth.store import AuthStore
from svidok.cases.access import AccessDenied, Actor
from svidok.cases.service import open_casework
from svidok.cases.views import RecordFilter
from svidok.demo import ADMIN, RECORDS, REVIEWER, DemoReport, run_demo
from svidok.errors import AuthenticationFailed
from svidok.home import Home

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "svidok"]
OPERATOR = Actor.operator("tester")
SECRETS = ["Кравчишин", "Kravchyshyn", "Ярошук", "Yaroshuk", "+380 00 000 00 01"]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    write_samples(out)
    return out


def _demo(home_path: Path, samples: Path | None) -> tuple[DemoReport, int]:
    with Home.open(home_path) as home:
        report = run_demo(home, OPERATOR, samples)
        return report, home.ledger.size


def _files_under(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())


def test_demo_twice_adds_nothing_the_second_time(home_path: Path, samples: Path) -> None:
    first, size = _demo(home_path, samples)
    assert first.ok and first.case_created and first.changed
    assert first.totals == {
        "item": len(list(samples.iterdir())),
        "place": 3,
        "source": 2,
        "incident": 3,
        "person": 5,
        "link": 11,
        "in review": 2,
    }
    assert [(u.username, u.created, bool(u.password)) for u in first.users] == [
        (ADMIN, True, True),
        (REVIEWER, True, True),
    ]
    second, size_again = _demo(home_path, samples)
    assert second.ok and not second.case_created and not second.changed
    assert second.totals == first.totals
    assert not any(second.created.values()) and not second.files
    assert size_again == size, "the second run wrote to the ledger"
    assert [(u.username, u.created, u.password) for u in second.users] == [
        (ADMIN, False, None),
        (REVIEWER, False, None),
    ]
    assert "password" not in json.dumps(second.to_json())
    # without the sample folder, the items are found by their titles: still nothing new
    third, size_third = _demo(home_path, None)
    assert not third.changed and third.totals == first.totals and size_third == size


def test_records_links_and_the_pending_review(home_path: Path, samples: Path) -> None:
    report, _ = _demo(home_path, samples)
    with Home.open(home_path) as home:
        work = open_casework(home)
        case = report.case_id
        by_key = {}
        for key, kind, _fields in RECORDS:
            found = work.find(OPERATOR, case, RecordFilter(tag=f"demo:{key}")).items
            assert len(found) == 1 and found[0].kind == kind, key
            by_key[key] = found[0]
        incident = by_key["incident-bucha"]
        assert incident.fields["categories"] == ["art8-2-a-i", "art7-1-a"]
        assert incident.fields["time"]["precision"] == "day"
        assert incident.fields["places"] == [by_key["place-bucha"].id]
        witness = by_key["person-witness-1"]
        assert {n["script"] for n in witness.fields["names"]} == {"Cyrl", "Latn"}
        assert witness.fields["legal_name"].startswith("Людмила Кравчишин")

        items = {
            r.fields["title"]: r
            for r in work.find(OPERATOR, case, RecordFilter(kind="item")).items
        }
        photo = items["bucha-street.jpg"]
        assert photo.fields["captured"]["start"].startswith("2022-04-02T10:41:07")
        assert photo.fields["location"]["place"] == by_key["place-bucha"].id
        assert photo.fields["source"] == by_key["source-volunteers"].id
        assert work.find(OPERATOR, case, RecordFilter(place=by_key["place-irpin"].id)).total == 2

        links = {(link.kind, link.from_id, link.to_id) for link in work.links(OPERATOR, case)}
        assert ("item-incident", photo.id, incident.id) in links
        assert ("person-incident", witness.id, incident.id) in links
        assert ("item-person", items["witness-statement.txt"].id, witness.id) in links

        waiting = work.find(OPERATOR, case, RecordFilter(assessment="in review")).items
        assert {r.id for r in waiting} == {incident.id, photo.id}
        # the two-person rule: whoever put it in review cannot verify it; the reviewer can
        with pytest.raises(AccessDenied):
            work.assess(OPERATOR, case, incident.id, "verified", "looks right")
        reviewer = work.user_by_name(REVIEWER)
        assert reviewer.admin is False
        as_reviewer = Actor(name=reviewer.username, user_id=reviewer.id)
        done = work.assess(as_reviewer, case, incident.id, "verified", "checked the sources")
        assert done.assessment == "verified"
        members = {u.username: role.value for u, role in work.members(OPERATOR, case)}
        assert members == {ADMIN: "owner", REVIEWER: "reviewer"}
        assert work.user_by_name(ADMIN).admin
    again, _ = _demo(home_path, samples)  # a decision taken since is left as it is
    assert not again.changed
    with Home.open(home_path) as home:
        assert open_casework(home).get(OPERATOR, case, incident.id).assessment == "verified"


def test_users_must_change_their_one_time_passwords(home_path: Path, samples: Path) -> None:
    report, _ = _demo(home_path, samples)
    passwords = {u.username: u.password for u in report.users}
    with Home.open(home_path) as home:
        users = {name: UUID(open_casework(home).user_by_name(name).id) for name in passwords}
    store = AuthStore.for_home(home_path)
    try:
        for name, password in passwords.items():
            assert password
            assert store.must_change_password(users[name])
            assert store.check_password(users[name], password, client="192.0.2.1").must_change
    finally:
        store.close()
    written = _files_under(home_path)  # ledger, catalog, auth store, settings, keys
    for password in passwords.values():
        assert password is not None and password.encode() not in written


def test_protected_fields_never_reach_the_ledger_in_clear(
    home_path: Path, samples: Path
) -> None:
    _demo(home_path, samples)
    ledger = _files_under(home_path / "ledger")
    catalog = _files_under(home_path) if (home_path / "catalog.sqlite").exists() else b""
    assert "Петро Савчишин".encode() in ledger  # the victims' names are not protected
    for secret in SECRETS:
        assert secret.encode() not in ledger, f"{secret} is in the ledger in clear"
        assert secret.encode() not in catalog, f"{secret} is in the catalog in clear"


def test_a_home_with_users_gets_no_demo_users(home_path: Path, samples: Path) -> None:
    with Home.open(home_path) as home:
        open_casework(home).add_user(OPERATOR, "olena", "Olena", admin=True)
    report, _ = _demo(home_path, samples)
    assert report.users == [] and report.totals["person"] == 5


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    cmd = [*CLI, "--home", str(home), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def test_cli_demo_and_user_reset_password(home_path: Path, samples: Path) -> None:
    made = _run("demo", "--samples", str(samples), home=home_path)
    assert made.returncode == 0, made.stderr
    assert "One-time password" in made.stdout and "Traceback" not in made.stderr
    again = _run("demo", "--samples", str(samples), "--json", home=home_path)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["ok"] and not data["case"]["created"] and not any(data["created"].values())
    assert all(not u["created"] and "one_time_password" not in u for u in data["users"])
    text = _run("demo", "--samples", str(samples), home=home_path)
    assert "svidok user reset-password admin" in text.stdout
    assert "One-time password" not in text.stdout

    with Home.open(home_path) as home:
        admin = UUID(open_casework(home).user_by_name(ADMIN).id)
    store = AuthStore.for_home(home_path)
    try:
        store.set_password(admin, "the admin's own passphrase")
        session = store.create_session(admin, second_factor=False)
        _, token = store.create_token(admin, None, timedelta(days=1))
        reset = _run("user", "reset-password", ADMIN, "--json", home=home_path)
        assert reset.returncode == 0, reset.stderr
        answer = json.loads(reset.stdout)
        password = answer["one_time_password"]
        assert answer["username"] == ADMIN and len(answer["revoked_tokens"]) == 1
        assert store.must_change_password(admin)
        assert store.check_password(admin, password, client="192.0.2.2").must_change
        with pytest.raises(AuthenticationFailed):
            store.get_session(session.cookie)
        with pytest.raises(AuthenticationFailed):
            store.authenticate_token(token)
        shown = _run("user", "reset-password", ADMIN, home=home_path)
        assert shown.returncode == 0 and "One-time password for admin:" in shown.stdout
        assert password not in shown.stdout  # a new one each time
        unknown = _run("user", "reset-password", "nobody", home=home_path)
        assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    finally:
        store.close()
    assert password.encode() not in _files_under(home_path)
