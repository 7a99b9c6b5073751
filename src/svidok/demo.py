"""A demo case to try Svidok with: ``run_demo(home, actor, samples)`` (``svidok demo``).

On a data home it makes sure of, creating only what is missing:

* the case ``demo``, with the sample files (``examples/make_samples.py``) preserved
  through intake and made items of the case (capture time and position from their
  metadata);
* invented casework records around them: places near Bucha, Irpin and Hostomel, two
  sources with Admiralty grades, three incidents of March 2022 with Rome Statute
  categories, five people (victims and witnesses; the witnesses' identities and contact
  details in protected fields, sealed before they reach the ledger), links between them,
  and two records put in review, waiting for a second reviewer;
* on a home without any user: an administrator ``admin`` (owner of the case) and a user
  ``reviewer`` (reviewer on it), each with a one-time password that is in the report
  only, to be shown once and changed at the first sign-in.

Running it again adds nothing and changes nothing: every record it makes carries the tag
``demo`` and a tag naming it (``demo:<key>``), by which it is found again; items are
found by their object, links by their ends, and a record that already has an assessment
is left as it is. Every person, source and incident here is FICTIONAL.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from svidok.cases.access import Actor, Role
from svidok.cases.service import Casework, open_casework
from svidok.cases.views import RecordFilter, RecordView
from svidok.catalog.casework import find_case_id
from svidok.errors import IntakeError
from svidok.home import Home
from svidok.textsafe import escape_bytes

CASE = "demo"
TAG = "demo"
COLLECTOR = "Sample Collector"
SOURCE = "generated sample evidence (examples/make_samples.py)"
ADMIN = "admin"
REVIEWER = "reviewer"
_FICTION = "FICTIONAL demo record (svidok demo): not real evidence, invented people."

# -- the demo's records ----------------------------------------------------------------
# (key, kind, fields); "@key" in a field names the record made for that key


def _names(cyrillic: str, latin: str, kind: str = "primary") -> list[dict[str, str]]:
    latin_kind = kind if kind == "pseudonym" else "transliteration"
    return [
        {"value": cyrillic, "script": "Cyrl", "language": "uk", "kind": kind},
        {"value": latin, "script": "Latn", "language": "uk-Latn", "kind": latin_kind},
    ]


def _place_names(cyrillic: str, latin: str) -> list[dict[str, str]]:
    return [
        {"value": cyrillic, "script": "Cyrl", "language": "uk"},
        {"value": latin, "script": "Latn", "language": "en"},
    ]


RECORDS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "place-bucha",
        "place",
        {
            "name": "Bucha, street in the town centre",
            "variants": _place_names("Буча, вулиця в центрі міста", "Bucha"),
            "lat": 50.5436,
            "lon": 30.2171,
            "admin_area": "Kyiv Oblast, Bucha Raion",
            "description": "Where the sample photo bucha-street.jpg was taken (its GPS); "
            "position known to about 50 m. " + _FICTION,
        },
    ),
    (
        "place-irpin",
        "place",
        {
            "name": "Irpin, road towards the river crossing",
            "variants": _place_names("Ірпінь, дорога до переправи", "Irpin"),
            "lat": 50.5181,
            "lon": 30.2498,
            "admin_area": "Kyiv Oblast, Bucha Raion",
            "description": "Where the sample photo irpin-bridge.jpg was taken (its GPS); "
            "position known to about 50 m. " + _FICTION,
        },
    ),
    (
        "place-hostomel",
        "place",
        {
            "name": "Hostomel, town centre",
            "variants": _place_names("Гостомель, центр селища", "Hostomel"),
            "lat": 50.5690,
            "lon": 30.2650,
            "admin_area": "Kyiv Oblast, Bucha Raion",
            "description": "The centre of Hostomel; position known to about 1 km. " + _FICTION,
        },
    ),
    (
        "source-volunteers",
        "source",
        {
            "name": "Volunteer documentation group (demo)",
            "source_type": "organisation",
            "reliability": "B",
            "description": "Usually reliable: local volunteers who photographed and took "
            "statements in April 2022. " + _FICTION,
            "contact": "Coordinator: +380 00 000 00 00, signal only (fictional)",
        },
    ),
    (
        "source-news",
        "source",
        {
            "name": "Regional news channel (demo)",
            "source_type": "publication",
            "reliability": "C",
            "description": "Fairly reliable: reports by phone from residents. " + _FICTION,
            "url": "https://news.example.org/demo",
        },
    ),
    (
        "incident-bucha",
        "incident",
        {
            "title": "Civilians killed in a street in Bucha (demo)",
            "description": "Residents report that civilians were shot in the street during "
            "the occupation; bodies were found after the withdrawal. " + _FICTION,
            "time": {"start": "2022-03-05", "end": "2022-03-30", "precision": "day"},
            "places": ["@place-bucha"],
            "categories": ["art8-2-a-i", "art7-1-a"],
            "status": "under investigation",
        },
    ),
    (
        "incident-irpin",
        "incident",
        {
            "title": "Shelling of an evacuation route in Irpin (demo)",
            "description": "Shells fell on the road used by civilians leaving the town. "
            + _FICTION,
            "time": {
                "start": "2022-03-06T08:00:00+02:00",
                "end": "2022-03-06T09:00:00+02:00",
                "precision": "hour",
            },
            "places": ["@place-irpin"],
            "categories": ["art8-2-b-i", "art8-2-b-v"],
            "status": "reported",
        },
    ),
    (
        "incident-hostomel",
        "incident",
        {
            "title": "Residents held in a basement in Hostomel (demo)",
            "description": "Men from nearby streets were held for weeks and questioned. "
            + _FICTION,
            "time": {"start": "2022-03-03", "end": "2022-03-25", "precision": "approximate"},
            "places": ["@place-hostomel"],
            "categories": ["art8-2-a-vii", "art8-2-a-ii"],
            "status": "reported",
        },
    ),
    (
        "person-victim-bucha",
        "person",
        {
            "names": _names("Петро Савчишин", "Petro Savchyshyn"),
            "sex": "male",
            "age": 61,
            "status": "deceased",
            "description": "Invented victim. " + _FICTION,
        },
    ),
    (
        "person-victim-irpin",
        "person",
        {
            "names": _names("Марія Гнатюк", "Mariia Hnatiuk"),
            "sex": "female",
            "age": 34,
            "status": "injured",
            "description": "Invented victim. " + _FICTION,
        },
    ),
    (
        "person-detained-hostomel",
        "person",
        {
            "names": _names("Олег Пилипчук", "Oleh Pylypchuk"),
            "sex": "male",
            "age": 45,
            "status": "detained",
            "description": "Invented victim. " + _FICTION,
        },
    ),
    (
        "person-witness-1",
        "person",
        {
            "names": _names("Свідок С-1", "Witness W-1", kind="pseudonym"),
            "sex": "female",
            "status": "alive",
            "description": "Invented witness; her identity is in the protected fields. " + _FICTION,
            "legal_name": "Людмила Кравчишин (Liudmyla Kravchyshyn)",
            "contact": "+380 00 000 00 01 (fictional)",
            "address": "Bucha, street withheld (fictional)",
        },
    ),
    (
        "person-witness-2",
        "person",
        {
            "names": _names("Свідок С-2", "Witness W-2", kind="pseudonym"),
            "sex": "male",
            "status": "displaced",
            "description": "Invented witness; his identity is in the protected fields. " + _FICTION,
            "legal_name": "Богдан Ярошук (Bohdan Yaroshuk)",
            "contact": "bohdan.yaroshuk@example.org (fictional)",
        },
    ),
]

# sample file -> what the demo adds to its item: place, source, credibility, precision (m)
ITEMS: dict[str, dict[str, Any]] = {
    "bucha-street.jpg": {"place": "place-bucha", "source": "source-volunteers", "cred": 2, "m": 15},
    "irpin-bridge.jpg": {"place": "place-irpin", "source": "source-news", "cred": 3, "m": 15},
    "witness-statement.txt": {
        "place": "place-bucha",
        "source": "source-volunteers",
        "cred": 2,
        "m": 1500,
    },
    "incident-report.pdf": {"source": "source-volunteers", "cred": 3},
}

# (kind, from, to, role); "file:NAME" is the item of a sample file, else a record key
LINKS: list[tuple[str, str, str, str]] = [
    ("item-incident", "file:bucha-street.jpg", "incident-bucha", "the street after the withdrawal"),
    ("item-incident", "file:witness-statement.txt", "incident-bucha", "witness statement"),
    ("item-incident", "file:incident-report.pdf", "incident-bucha", "incident report"),
    ("item-incident", "file:irpin-bridge.jpg", "incident-irpin", "damage on the route"),
    ("item-person", "file:witness-statement.txt", "person-witness-1", "gives the statement"),
    ("person-incident", "person-victim-bucha", "incident-bucha", "victim"),
    ("person-incident", "person-witness-1", "incident-bucha", "witness"),
    ("person-incident", "person-victim-irpin", "incident-irpin", "victim (injured)"),
    ("person-incident", "person-witness-2", "incident-irpin", "witness"),
    ("person-incident", "person-detained-hostomel", "incident-hostomel", "victim (detained)"),
    ("person-incident", "person-witness-2", "incident-hostomel", "witness"),
]

# records put in review, to wait for a second reviewer (the two-person rule)
REVIEWS: list[tuple[str, str]] = [
    (
        "incident-bucha",
        "A photo, a witness statement and an incident report agree on the place and the "
        "time. Ready for a second reviewer to verify.",
    ),
    (
        "file:bucha-street.jpg",
        "EXIF time and GPS match the place; source graded B2. Needs a second reviewer.",
    ),
]


# -- the report ------------------------------------------------------------------------


@dataclass
class DemoUser:
    """A demo account; ``password`` only when it was created by this run (show it once)."""

    username: str
    role: str
    created: bool
    password: str | None = field(default=None, repr=False)


@dataclass
class DemoReport:
    case_id: str
    case_reference: str
    case_created: bool = False
    files: dict[str, int] = field(default_factory=dict)  # intake outcomes by status
    failed: list[str] = field(default_factory=list)  # sample files not preserved, why
    created: dict[str, int] = field(default_factory=dict)  # what this run added
    totals: dict[str, int] = field(default_factory=dict)  # what the case holds now
    users: list[DemoUser] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def changed(self) -> bool:
        return self.case_created or any(self.created.values())

    def _add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "case": {
                "id": self.case_id,
                "reference": self.case_reference,
                "created": self.case_created,
            },
            "files": self.files,
            "failed": self.failed,
            "created": self.created,
            "totals": self.totals,
            "users": [
                {
                    "username": u.username,
                    "role": u.role,
                    "created": u.created,
                    **({"one_time_password": u.password} if u.password else {}),
                }
                for u in self.users
            ],
        }


# -- the work --------------------------------------------------------------------------


def run_demo(home: Home, actor: Actor, samples: Path | None = None) -> DemoReport:
    """Make sure the demo case is there (see the module docstring); what was done back.
    ``samples``: the folder ``examples/make_samples.py`` wrote (None: no files)."""
    work = open_casework(home)
    report = _case(home, work, actor)
    case = report.case_id
    objects = _sample_objects(samples) if samples is not None else {}
    if samples is not None:
        _ingest(home, work, actor, report, samples, objects)
    ids = _records(work, actor, case, report)
    items = _items(work, actor, case, objects)
    for name, item in items.items():
        ids[f"file:{name}"] = item.id
    _item_details(work, actor, case, items, ids, report)
    _links(work, actor, case, ids, report)
    _reviews(work, actor, case, ids, report)
    _users(home, work, actor, case, report)
    report.totals = _totals(work, actor, case)
    return report


def _case(home: Home, work: Casework, actor: Actor) -> DemoReport:
    with home.catalog.engine.connect() as conn:
        case_id = find_case_id(conn, CASE)
    if case_id is not None:
        found = work.case(actor, case_id)
        return DemoReport(case_id=found.id, case_reference=found.reference)
    made = work.create_case(
        actor,
        {
            "reference": CASE,
            "title": "Demo case (generated samples)",
            "description": "Made by `svidok demo`: the generated sample files and invented "
            "records around them, to try Svidok with. Nothing in it is real evidence; every "
            "person, source and incident is fictional.",
        },
    )
    return DemoReport(case_id=made.id, case_reference=made.reference, case_created=True)


def _sample_objects(samples: Path) -> dict[str, str]:
    """File name -> object id (``sha256:<hex>``) of every sample file."""
    if not samples.is_dir():
        raise IntakeError(f"no sample folder at {samples} (examples/make_samples.py makes it)")
    found = {}
    for path in sorted(samples.iterdir()):
        if path.name.startswith(".") or not path.is_file() or path.is_symlink():
            continue
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        found[path.name] = f"sha256:{digest.hexdigest()}"
    return found


def _case_objects(work: Casework, actor: Actor, case: str) -> dict[str, RecordView]:
    """Object id -> the item of the case that holds it."""
    found: dict[str, RecordView] = {}
    offset = 0
    while True:
        page = work.find(actor, case, RecordFilter(kind="item"), limit=500, offset=offset)
        found.update((str(r.fields["object"]), r) for r in page.items if r.fields.get("object"))
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return found


def _ingest(
    home: Home,
    work: Casework,
    actor: Actor,
    report: DemoReport,
    samples: Path,
    objects: Mapping[str, str],
) -> None:
    """Preserve the sample files not yet items of the case, and make them items. A file
    whose content is an item already is not taken in again (no second acquisition)."""
    from svidok.intake.ingest import IngestOptions, ingest, summarize

    have = _case_objects(work, actor, report.case_id)
    todo = [samples / name for name, obj in objects.items() if obj not in have]
    if not todo:
        return
    options = IngestOptions(case=report.case_reference, collector=COLLECTOR, source=SOURCE)
    done = ingest(home, [os.fsencode(p.resolve()) for p in todo], options)
    report.files = {k: v for k, v in summarize(done).items() if v}
    report.failed = [f"{o.display}: {o.reason or o.status}" for o in done.outcomes if not o.ok]
    received = [
        (o.object_id, escape_bytes(o.path.rpartition(b"/")[2]))
        for o in done.outcomes
        if o.object_id is not None and o.status in ("preserved", "already-preserved")
    ]
    made = work.add_intake_items(actor, report.case_id, received)
    report._add("item", len(made))


def _resolve(value: Any, ids: Mapping[str, str]) -> Any:
    """Fields with every "@key" replaced by the id of that record."""
    if isinstance(value, str) and value.startswith("@"):
        return ids[value[1:]]
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    return value


def _records(work: Casework, actor: Actor, case: str, report: DemoReport) -> dict[str, str]:
    ids: dict[str, str] = {}
    for key, kind, fields in RECORDS:
        found = work.find(actor, case, RecordFilter(tag=f"{TAG}:{key}"), limit=1).items
        if found:
            ids[key] = found[0].id
            continue
        doc = _resolve(fields, ids)
        if "categories" in doc:  # a home with another taxonomy: only the codes it has
            unknown = set(work.taxonomy.unknown(doc["categories"]))
            doc["categories"] = [c for c in doc["categories"] if c not in unknown]
        doc["tags"] = [TAG, f"{TAG}:{key}"]
        ids[key] = work.create(actor, case, kind, doc).id
        report._add(kind)
    return ids


def _items(
    work: Casework, actor: Actor, case: str, objects: Mapping[str, str]
) -> dict[str, RecordView]:
    """Sample file name -> its item in the case (by object; without the sample folder, by
    the item's title, which intake sets to the file name)."""
    by_object = _case_objects(work, actor, case)
    if objects:
        return {name: by_object[obj] for name, obj in objects.items() if obj in by_object}
    by_title = {str(r.fields.get("title")): r for r in by_object.values()}
    return {name: by_title[name] for name in ITEMS if name in by_title}


def _item_details(
    work: Casework,
    actor: Actor,
    case: str,
    items: Mapping[str, RecordView],
    ids: Mapping[str, str],
    report: DemoReport,
) -> None:
    """Place, source and credibility of the sample items (once: then they carry the tag)."""
    for name, plan in ITEMS.items():
        item = items.get(name)
        if item is None or TAG in item.fields.get("tags", []):
            continue
        changes: dict[str, Any] = {
            "tags": [*item.fields.get("tags", []), TAG],
            "source": ids[plan["source"]],
            "credibility": plan["cred"],
        }
        if "place" in plan:
            place = work.get(actor, case, ids[plan["place"]]).fields
            location = dict(item.fields.get("location") or {})
            location.setdefault("lat", place["lat"])
            location.setdefault("lon", place["lon"])
            location.update(precision_m=plan["m"], place=ids[plan["place"]])
            changes["location"] = location
        work.update(actor, case, item.id, changes)
        report._add("item details")


def _links(
    work: Casework, actor: Actor, case: str, ids: Mapping[str, str], report: DemoReport
) -> None:
    have = {(link.kind, link.from_id, link.to_id) for link in work.links(actor, case)}
    for kind, start, end, role in LINKS:
        if start not in ids or end not in ids:  # a sample file not there
            continue
        key = (kind, ids[start], ids[end])
        if key in have:
            continue
        work.link(actor, case, kind, ids[start], ids[end], role)
        have.add(key)
        report._add("link")


def _reviews(
    work: Casework, actor: Actor, case: str, ids: Mapping[str, str], report: DemoReport
) -> None:
    for key, rationale in REVIEWS:
        record = ids.get(key)
        if record is None or work.assessments(actor, case, record):
            continue  # assessed before (perhaps verified since): left as it is
        work.assess(actor, case, record, "in review", rationale)
        report._add("assessment")


def _users(home: Home, work: Casework, actor: Actor, case: str, report: DemoReport) -> None:
    """On a home without users: ``admin`` (owner of the case) and ``reviewer``, each with a
    one-time password. Else: which of them exist."""
    wanted = (
        (ADMIN, "Administrator", True, Role.OWNER),
        (REVIEWER, "Reviewer", False, Role.REVIEWER),
    )
    existing = {u.username.lower() for u in work.users()}
    if existing:
        report.users = [
            DemoUser(name, role.value, created=False)
            for name, _, _, role in wanted
            if name in existing
        ]
        return
    from svidok.auth.store import AuthStore

    store = AuthStore.for_home(home.path)
    try:
        store.migrate()
        for name, display, admin, role in wanted:
            user = work.add_user(actor, name, display, admin=admin)
            issued = store.issue_one_time_password(UUID(user.id))
            work.grant(actor, case, user.id, role)
            report.users.append(DemoUser(name, role.value, True, issued.password))
            report._add("user")
    finally:
        store.close()


def _totals(work: Casework, actor: Actor, case: str) -> dict[str, int]:
    def count(**where: str) -> int:
        return work.find(actor, case, RecordFilter(**where), limit=1).total

    totals = {kind: count(kind=kind) for kind in ("item", "place", "source", "incident", "person")}
    totals["link"] = len(work.links(actor, case))
    totals["in review"] = count(assessment="in review")
    return totals
