"""Casework over a real data home: roles, records, protected fields, links, the two-person
rule, evidence access, history, and the catalog rebuilt from the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_ingest
from svidok.cases.access import AccessDenied, Actor, Role
from svidok.cases.service import Casework, CaseworkError, Cipher, Conflict, NotFound
from svidok.cases.views import RecordFilter
from svidok.home import Home
from svidok.intake.ingest import IngestOptions
from svidok.protect import FieldCipher
from svidok.verify import verify

OPERATOR = Actor.operator("operator")


@pytest.fixture()
def work(home: Home, tmp_path: Path) -> Casework:
    key = FieldCipher.load_or_create(tmp_path / "keys" / "fields.key")
    return Casework(home, Cipher(key.encrypt, key.decrypt))


def _actor(work: Casework, name: str, admin: bool = False) -> Actor:
    user = work.add_user(OPERATOR, name, name.title(), admin=admin)
    return Actor(name=user.username, user_id=user.id, admin=admin)


@pytest.fixture()
def team(work: Casework) -> dict[str, Actor]:
    return {n: _actor(work, n) for n in ("olena", "taras", "iryna", "mykola", "viktor", "outsider")}


@pytest.fixture()
def case(work: Casework, team: dict[str, Actor]) -> str:
    c = work.create_case(
        team["olena"], {"reference": "UA-2022-BUCHA", "title": "Bucha, March 2022"}
    )
    for name, role in (
        ("taras", Role.INVESTIGATOR),
        ("iryna", Role.REVIEWER),
        ("mykola", Role.ANALYST),
        ("viktor", Role.VIEWER),
    ):
        work.grant(team["olena"], c.id, team[name].user_id or "", role)
    return c.id


def test_creator_owns_the_case_and_outsiders_see_nothing(
    work: Casework, team: dict[str, Actor], case: str
) -> None:
    assert work.case(team["olena"], case).role == Role.OWNER
    with pytest.raises(AccessDenied, match="no such case"):
        work.case(team["outsider"], case)
    with pytest.raises(AccessDenied, match="no such case"):
        work.find(team["outsider"], case, RecordFilter())
    assert [c.id for c in work.cases(team["outsider"]).items] == []
    assert [c.id for c in work.cases(team["viktor"]).items] == [case]


def test_roles_limit_what_each_may_do(work: Casework, team: dict[str, Actor], case: str) -> None:
    place = work.create(
        team["taras"], case, "place", {"name": "Yablunska St.", "lat": 50.54, "lon": 30.22}
    )
    with pytest.raises(AccessDenied, match="edit"):
        work.create(team["viktor"], case, "place", {"name": "Irpin"})
    with pytest.raises(AccessDenied, match="edit"):
        work.update(team["mykola"], case, place.id, {"name": "Yablunska Street"})
    tagged = work.update(team["mykola"], case, place.id, {"tags": ["street"]})  # annotate
    assert tagged.fields["tags"] == ["street"] and tagged.version == 2
    with pytest.raises(AccessDenied):
        work.grant(team["taras"], case, team["outsider"].user_id or "", Role.VIEWER)
    with pytest.raises(AccessDenied, match="assess"):
        work.assess(team["taras"], case, place.id, "in review", "ready")


def test_protected_fields_are_encrypted_in_the_ledger_and_hidden_from_viewers(
    work: Casework, team: dict[str, Actor], case: str, home: Home
) -> None:
    witness = work.create(
        team["taras"],
        case,
        "person",
        {
            "names": [{"value": "Witness W-17", "kind": "pseudonym"}],
            "legal_name": "Hanna Petrenko",
            "contact": "+380 67 000 0000",
            "status": "alive",
        },
    )
    ledger = (home.path / "ledger" / "entries.jsonl").read_text(encoding="utf-8")
    assert "Hanna Petrenko" not in ledger and "+380 67" not in ledger
    catalog = home.catalog.dump()
    assert "Hanna Petrenko" not in json.dumps(catalog, default=str)
    seen = work.get(team["iryna"], case, witness.id)
    assert seen.fields["legal_name"] == "Hanna Petrenko" and seen.hidden == []
    for who in ("viktor", "mykola"):
        view = work.get(team[who], case, witness.id)
        assert "legal_name" not in view.fields and "contact" not in view.fields
        assert view.hidden == ["contact", "legal_name"]
        assert view.fields["names"][0]["value"] == "Witness W-17"
        history = work.history(team[who], case, witness.id)
        assert history[0].data["fields"]["legal_name"] == "(protected)"
    with pytest.raises(AccessDenied, match="edit"):
        work.update(team["mykola"], case, witness.id, {"contact": "x"})
    moved = work.update(team["taras"], case, witness.id, {"contact": "+380 50 111 1111"})
    assert (
        moved.fields["contact"] == "+380 50 111 1111"
        and moved.fields["legal_name"] == "Hanna Petrenko"
    )
    assert "+380 50 111" not in (home.path / "ledger" / "entries.jsonl").read_text(encoding="utf-8")


def test_two_person_rule(work: Casework, team: dict[str, Actor], case: str) -> None:
    work.grant(team["olena"], case, team["taras"].user_id or "", Role.OWNER)
    item = work.create(
        team["taras"], case, "item", {"title": "Photo of the street", "item_kind": "photo"}
    )
    work.assess(team["taras"], case, item.id, "in review", "geolocated against satellite imagery")
    with pytest.raises(AccessDenied, match="second reviewer"):
        work.assess(team["taras"], case, item.id, "verified", "I checked it myself")
    with pytest.raises(CaseworkError, match="cannot go"):
        work.assess(team["iryna"], case, item.id, "in review", "again")
    with pytest.raises(CaseworkError, match="rationale"):
        work.assess(team["iryna"], case, item.id, "verified", "  ")
    done = work.assess(team["iryna"], case, item.id, "verified", "shadows match 10:40 local time")
    assert done.assessment == "verified"
    trail = work.assessments(team["viktor"], case, item.id)
    assert [(a["from"], a["to"], a["by"]) for a in trail] == [
        ("unverified", "in review", "taras"),
        ("in review", "verified", "iryna"),
    ]


def test_versions_refs_links_filters_and_history(
    work: Casework, team: dict[str, Actor], case: str
) -> None:
    t = team["taras"]
    place = work.create(t, case, "place", {"name": "Bucha", "lat": 50.543, "lon": 30.212})
    source = work.create(
        t, case, "source", {"name": "Local NGO", "source_type": "organisation", "reliability": "B"}
    )
    incident = work.create(
        t,
        case,
        "incident",
        {
            "title": "Shooting on Yablunska St.",
            "time": {"start": "2022-03-05", "end": "2022-03-30", "precision": "day"},
            "places": [place.id],
            "categories": ["art8-2-a-i"],
        },
    )
    item = work.create(
        t,
        case,
        "item",
        {
            "title": "Video 1",
            "item_kind": "video",
            "source": source.id,
            "credibility": 2,
            "captured": {"start": "2022-03-19T10:40:00+02:00"},
            "location": {"lat": 50.54, "lon": 30.21, "precision_m": 50, "place": place.id},
            "tags": ["street", "vehicle"],
        },
    )
    with pytest.raises(CaseworkError, match="not a source"):
        work.create(t, case, "item", {"title": "x", "source": place.id})
    with pytest.raises(CaseworkError, match="invalid item fields"):
        work.create(t, case, "item", {"title": "x", "colour": "red"})
    with pytest.raises(Conflict):
        work.update(t, case, item.id, {"title": "Video 1 (cut)"}, version=7)
    work.update(t, case, item.id, {"title": "Video 1 (full)"}, version=1)
    link = work.link(t, case, "item-incident", item.id, incident.id, "vehicle on fire")
    with pytest.raises(CaseworkError, match="goes from"):
        work.link(t, case, "item-incident", incident.id, item.id)
    assert [x.id for x in work.links(team["viktor"], case, item.id)] == [link.id]
    work.unlink(team["mykola"], case, link.id, "wrong incident")
    assert work.links(team["viktor"], case, item.id) == []

    def ids(**where: str) -> set[str]:
        return {r.id for r in work.find(team["viktor"], case, RecordFilter(**where)).items}

    assert ids(kind="item", tag="vehicle") == {item.id}
    assert ids(place=place.id) == {incident.id, item.id}
    assert ids(time_from="2022-03-19", time_to="2022-03-19") == {incident.id, item.id}
    assert ids(time_from="2022-04-01") == set()
    assert ids(grade="B") == {source.id}
    assert ids(text="full") == {item.id}
    history = work.history(team["viktor"], case, item.id)
    assert [h.type for h in history] == ["record.create", "record.update"]
    assert history[1].actor == "taras" and history[1].data["changes"] == {"title": "Video 1 (full)"}


def test_other_cases_records_are_out_of_reach(
    work: Casework, team: dict[str, Actor], case: str
) -> None:
    other = work.create_case(team["outsider"], {"reference": "OTHER-1", "title": "Another"})
    secret = work.create(team["outsider"], other.id, "place", {"name": "Elsewhere"})
    with pytest.raises(NotFound):
        work.get(team["olena"], case, secret.id)
    with pytest.raises(AccessDenied):
        work.get(team["olena"], other.id, secret.id)
    with pytest.raises(CaseworkError, match="not a place"):
        work.create(team["taras"], case, "incident", {"title": "x", "places": [secret.id]})


def test_token_scope_limits_the_cases(work: Casework, team: dict[str, Actor], case: str) -> None:
    olena = team["olena"]
    other = work.create_case(olena, {"reference": "OTHER-2", "title": "Another"})
    scoped = Actor(name=olena.name, user_id=olena.user_id, cases=frozenset({other.id}))
    with pytest.raises(AccessDenied):
        work.case(scoped, case)
    assert [c.id for c in work.cases(scoped).items] == [other.id]


def test_access_is_recorded_and_the_catalog_rebuilds_equal(
    work: Casework, team: dict[str, Actor], case: str, home: Home, tmp_path: Path
) -> None:
    evidence = tmp_path / "photo.jpg"
    evidence.write_bytes(b"\xff\xd8\xff not really a photo")
    report = run_ingest(
        home, evidence, options=IngestOptions(case="UA-2022-BUCHA", collector="taras")
    )
    obj = report.outcomes[0].object_id
    assert obj is not None
    other = work.create_case(team["outsider"], {"reference": "OTHER-3", "title": "Another"})
    with pytest.raises(CaseworkError, match="not received for this case"):
        work.create(team["outsider"], other.id, "item", {"title": "Stolen", "object": obj})
    item = work.create(team["taras"], case, "item", {"title": "Photo", "object": obj})
    assert work.open_evidence(team["viktor"], case, item.id, "download") == obj
    entries = [e for e in home.ledger.iter_entries() if e.type == "access"]
    assert entries[-1].actor == "viktor" and entries[-1].data["record"] == item.id
    report = verify(home, quick=True)
    catalog_findings = [f for f in report.findings if f.area == "catalog"]
    assert catalog_findings == []


def test_a_lost_field_key_is_never_silently_replaced(home: Home) -> None:
    from svidok.cases.service import open_casework

    key = home.path / "keys" / "fields.key"
    assert key.stat().st_mode & 0o777 == 0o600  # made by init, outside the catalog
    work = open_casework(home)
    op = Actor.operator("op")
    case = work.create_case(op, {"reference": "K-1", "title": "k"}).id
    work.create(op, case, "person", {"names": [{"value": "W-2"}], "contact": "secret"})
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(CaseworkError, match="missing"):
        open_casework(home)
    key.write_bytes(saved)
    key.chmod(0o600)
    person = open_casework(home).find(op, case, RecordFilter(kind="person")).items[0]
    assert person.fields["contact"] == "secret"


def test_a_case_limited_token_cannot_create_cases(
    work: Casework, team: dict[str, Actor], case: str
) -> None:
    olena = team["olena"]
    scoped = Actor(name=olena.name, user_id=olena.user_id, cases=frozenset({case}))
    before = work.home.ledger.size
    with pytest.raises(AccessDenied, match="limited"):
        work.create_case(scoped, {"reference": "NEW-1", "title": "x"})
    assert work.home.ledger.size == before


def test_history_pages(work: Casework, team: dict[str, Actor], case: str) -> None:
    t = team["taras"]
    place = work.create(t, case, "place", {"name": "v0"})
    for n in range(1, 6):
        work.update(t, case, place.id, {"name": f"v{n}"})
    whole = work.history(team["viktor"], case, place.id)
    assert len(whole) == 6
    page = work.history(team["viktor"], case, place.id, limit=2, offset=3)
    assert [h.index for h in page] == [h.index for h in whole[3:5]]
    assert work.history(team["viktor"], case, place.id, offset=10) == []
    with pytest.raises(NotFound):
        work.history(team["viktor"], case, "00000000-0000-4000-8000-000000000000")


def test_evidence_metadata_shows_this_case_s_provenance_only(
    work: Casework, team: dict[str, Actor], case: str, home: Home, tmp_path: Path
) -> None:
    evidence = tmp_path / "same.txt"
    evidence.write_text("Свідчення: 06:40\n", encoding="utf-8")
    other = work.create_case(team["outsider"], {"reference": "OTHER-4", "title": "Another"})
    secret = IngestOptions(case="OTHER-4", collector="outsider", source="their informant")
    run_ingest(home, evidence, options=secret)
    mine = IngestOptions(case="UA-2022-BUCHA", collector="taras", source="our NGO")
    obj = run_ingest(home, evidence, options=mine).outcomes[0].object_id
    assert obj is not None
    item = work.create(team["taras"], case, "item", {"title": "Statement", "object": obj})
    info = work.evidence(team["viktor"], case, item.id)
    assert info.object == obj and info.sha256 == obj.removeprefix("sha256:")
    assert info.media_type.startswith("text/plain") and info.size == evidence.stat().st_size
    assert [(a.collector, a.source) for a in info.acquisitions] == [("taras", "our NGO")]
    assert info.acquisitions[0].path.endswith("same.txt")
    assert info.extractions and info.extractions[0].metadata["encoding"]
    other_item = work.create(team["outsider"], other.id, "item", {"title": "x", "object": obj})
    theirs = work.evidence(team["outsider"], other.id, other_item.id)
    assert [a.source for a in theirs.acquisitions] == ["their informant"]
