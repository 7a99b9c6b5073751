"""A CSV list of people (for example the victims named by one source) as person records.

Columns map onto person fields by name, or by ``--map COLUMN=FIELD``; several columns
mapped to ``name`` are joined in the order given (surname, given name, patronymic). Every
row is checked before anything is written: one bad row refuses the whole file, each
problem with its line number. Each person made carries the tag ``import:<16 hex>``, a
keyed hash (with the home's field key) of the row's values, or of its ``id`` column when
one is mapped: a second run of the same list finds its people again and makes none twice,
and the tag reveals nothing of the row to anyone without the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svidok.cases.access import Actor
from svidok.cases.service import Casework, CaseworkError
from svidok.imports.common import ImportRefused, ImportReport, Problem, read_csv

TARGETS = (
    "name", "name_latin", "pseudonym", "sex", "age", "birth_date", "status", "description",
    "tags", "legal_name", "contact", "address", "identity_document", "protected_notes",
    "id", "ignore",
)
TAG_PREFIX = "import:"

_SEX = {
    "female": ("f", "female", "woman", "ж", "жін", "жінка", "жіноча", "ж.", "female"),
    "male": ("m", "male", "man", "ч", "чол", "чоловік", "чоловіча", "ч.", "м", "муж"),
    "other": ("other", "інша", "x"),
    "unknown": ("", "?", "unknown", "невідомо", "н/д"),
}
_STATUS = {
    "deceased": ("deceased", "dead", "killed", "died", "загинув", "загинула", "помер",
                 "померла", "вбитий", "вбита", "загиблий", "загибла", "мертвий"),
    "missing": ("missing", "зник безвісти", "зникла безвісти", "зниклий", "зникла"),
    "injured": ("injured", "wounded", "поранений", "поранена", "травмований"),
    "detained": ("detained", "captured", "затриманий", "затримана", "полонений", "полонена"),
    "displaced": ("displaced", "переміщений", "переміщена", "впо"),
    "alive": ("alive", "живий", "жива"),
    "unknown": ("", "?", "unknown", "невідомо"),
}
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


@dataclass(frozen=True)
class PeopleOptions:
    mapping: Mapping[str, str]  # column -> target (columns named like a target need none)
    encoding: str = "utf-8-sig"
    delimiter: str | None = None
    tags: tuple[str, ...] = ()


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``COLUMN=FIELD`` pairs (FIELD one of TARGETS)."""
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        target = target.strip().lower()
        if not sep or not column.strip():
            raise ImportRefused([Problem("--map", f"{pair!r} is not COLUMN=FIELD")])
        if target not in TARGETS:
            raise ImportRefused(
                [Problem("--map", f"{target!r} is not one of: {', '.join(TARGETS)}")]
            )
        out[column.strip()] = target
    return out


def _pick(table: Mapping[str, tuple[str, ...]], value: str, what: str) -> str:
    v = value.strip().lower()
    for key, words in table.items():
        if v in words:
            return key
    raise ValueError(f"{what} {value!r} is not one of {', '.join(table)}")


def _date(value: str) -> str:
    m = _DMY.match(value.strip())
    return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}" if m else value.strip()


def person_from_row(values: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, Any]:
    """The person fields a row gives (ValueError saying what is wrong)."""
    parts: dict[str, list[str]] = {}
    for column, target in mapping.items():
        value = values.get(column, "").strip()
        if value and target != "ignore":
            parts.setdefault(target, []).append(value)
    one = {k: " ".join(v) for k, v in parts.items()}
    names = []
    for target, kind, script in (("name", "primary", None), ("name_latin", "transliteration",
                                                             "Latn"),
                                 ("pseudonym", "pseudonym", None)):
        if target in one:
            entry = {"value": one[target], "kind": kind}
            if script or re.search("[\u0400-\u04ff]", one[target]):
                entry["script"] = script or "Cyrl"
            names.append(entry)
    if not names:
        raise ValueError("no name (map a column to name, name_latin or pseudonym)")
    doc: dict[str, Any] = {"names": names}
    if "sex" in one:
        doc["sex"] = _pick(_SEX, one["sex"], "sex")
    if "status" in one:
        doc["status"] = _pick(_STATUS, one["status"], "status")
    if "age" in one:
        if not one["age"].isdigit():
            raise ValueError(f"age {one['age']!r} is not a whole number of years")
        doc["age"] = int(one["age"])
    if "birth_date" in one:
        doc["birth_date"] = _date(one["birth_date"])
    for target in ("description", "legal_name", "contact", "address", "identity_document",
                   "protected_notes"):
        if target in one:
            doc[target] = one[target]
    if "tags" in one:
        doc["tags"] = [t.strip() for t in re.split(r"[;|]", one["tags"]) if t.strip()]
    return doc


def import_people(
    work: Casework, actor: Actor, case_key: str, path: Path, options: PeopleOptions
) -> ImportReport:
    """Import the people of the CSV file ``path`` into a case (see the module notes)."""
    case = work.find_case(actor, case_key)
    header, rows = read_csv(path, options.encoding, options.delimiter)
    mapping = {h: h.lower() for h in header if h.lower() in TARGETS}
    unknown = [c for c in options.mapping if c not in header]
    if unknown:
        raise ImportRefused([Problem(f"{path.name} line 1", f"no column named {c!r}")
                             for c in unknown])
    mapping.update(options.mapping)
    if not any(t in mapping.values() for t in ("name", "name_latin", "pseudonym")):
        raise ImportRefused([Problem(f"{path.name} line 1",
                                     "no column is mapped to name, name_latin or pseudonym "
                                     f"(columns: {', '.join(header)}; use --map COLUMN=name)")])
    problems: list[Problem] = []
    docs: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    notes: list[Problem] = []
    for row in rows:
        where = f"{path.name} line {row.line}"
        if row.extra > 0:
            problems.append(Problem(where, f"{row.extra} values more than the header has"))
            continue
        try:
            doc = person_from_row(row.values, mapping)
            doc["tags"] = [*doc.get("tags", []), *options.tags]
            checked = work.check_fields("person", doc)
        except (ValueError, CaseworkError) as exc:
            problems.append(Problem(where, str(exc)))
            continue
        ident = row.values.get(next((c for c, t in mapping.items() if t == "id"), ""), "")
        basis = f"id:{ident.strip()}" if ident.strip() else json.dumps(
            {k: v for k, v in checked.items() if k != "tags"}, sort_keys=True, ensure_ascii=False
        )
        tag = TAG_PREFIX + _blind(work, basis, case.id)
        if tag in seen:  # the list names them twice: one record
            notes.append(Problem(where, f"the same values as line {seen[tag]}: one person"))
            continue
        seen[tag] = row.line
        checked["tags"] = [*checked.get("tags", []), tag]
        docs.append((tag, checked))
    if problems:
        raise ImportRefused(problems)
    report = ImportReport("people", case.reference, notes=notes)
    existing = work.tagged(actor, case.id, TAG_PREFIX)
    new = [doc for tag, doc in docs if tag not in existing]
    report.unchanged = [existing[tag] for tag, _ in docs if tag in existing]
    report.created = work.create_many(actor, case.id, "person", new)
    return report


def _blind(work: Casework, basis: str, case_id: str) -> str:
    if work.cipher is None:
        raise CaseworkError("importing people needs the home's field key")
    return work.cipher.blind(basis, f"import:person:{case_id}")[:16]
