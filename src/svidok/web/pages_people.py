"""People: the registry of victims, witnesses and others, a person's page, and the create and
edit forms; protected fields only for roles that may read them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from svidok.cases.access import Permission
from svidok.cases.fields import (
    PersonStatus,
    Script,
    Sex,
)
from svidok.cases.service import CaseworkError
from svidok.cases.views import CaseView, RecordFilter, RecordView
from svidok.web.common import (
    actor_of,
    case_of,
    case_page,
    may,
    other_end,
    require,
    text,
)
from svidok.web.records_kit import (
    FIELD_NAMES,
    NAME_KINDS,
    PERSON_PROTECTED,
    create_record,
    edit_record,
    labels,
    linked,
    list_page,
    of_kind,
    query_values,
    record_context,
    tags_of,
)
from svidok.web.render import Viewer, render
from svidok.web.router import router
from svidok.web.session import require_viewer, state_of

# --------------------------------------------------------------------------- people
PEOPLE_FILTERS = ("q", "status")


def _name_matches(record: RecordView, needle: str) -> bool:
    needle = needle.casefold()
    return any(needle in str(n.get("value", "")).casefold() for n in record.fields.get("names", []))


@router.get("/cases/{key}/people")
def people_page(request: Request, key: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    values = query_values(request, PEOPLE_FILTERS)
    status = values.get("status")
    where = RecordFilter(
        kind="person", status=status if status in {s.value for s in PersonStatus} else None
    )
    needle = values.get("q")  # any name, in any script, not only the first
    keep = (lambda r: _name_matches(r, needle)) if needle else None
    page = list_page(request, state, actor, case.id, where, keep)
    return render(
        request,
        "people.html",
        viewer,
        {
            "case": case,
            "section": "people",
            "page": page,
            "filters": values,
            "query": urlencode(values),
            "statuses": [s.value for s in PersonStatus],
            "may_edit": may(case, Permission.EDIT),
        },
    )


def _name_rows(form: FormData) -> int:
    value = text(form, "name_rows", limit=4)
    return min(int(value), 60) if value.isdigit() else 0


def _names(form: FormData) -> list[dict[str, str]]:
    names = []
    for i in range(_name_rows(form)):
        value = text(form, f"name_value_{i}", limit=200)
        if not value:
            continue
        script = text(form, f"name_script_{i}", limit=8) or Script.OTHER.value
        kind = text(form, f"name_kind_{i}", limit=20) or "primary"
        names.append({"value": value, "script": script, "kind": kind})
    return names


def _person_fields(form: FormData, case: CaseView) -> dict[str, Any]:
    age_text = text(form, "age", limit=4)
    try:
        age = int(age_text) if age_text else None
    except ValueError:
        raise CaseworkError("the age is a whole number of years") from None
    fields: dict[str, Any] = {
        "names": _names(form),
        "sex": text(form, "sex", limit=20) or "unknown",
        "age": age,
        "birth_date": text(form, "birth_date", limit=40) or None,
        "status": text(form, "status", limit=20) or "unknown",
        "description": text(form, "description"),
        "tags": tags_of(text(form, "tags", limit=10_000)),
    }
    if may(case, Permission.READ_PROTECTED):  # never sent by those who cannot see them
        for name in PERSON_PROTECTED:
            fields[name] = text(form, name) or None
    return fields


def _person_values(record: RecordView, protected: bool) -> dict[str, Any]:
    fields = record.fields
    values: dict[str, Any] = {
        "names": list(fields.get("names", [])),
        "sex": fields.get("sex", "unknown"),
        "age": "" if fields.get("age") is None else str(fields.get("age")),
        "birth_date": fields.get("birth_date", ""),
        "status": fields.get("status", "unknown"),
        "description": fields.get("description", ""),
        "tags": ", ".join(fields.get("tags", [])),
        "version": record.version,
    }
    if protected:
        for name in PERSON_PROTECTED:
            if name not in record.hidden:
                values[name] = fields.get(name) or ""
    return values


def _person_form_values(form: FormData, protected: bool) -> dict[str, Any]:
    names = ("sex", "age", "birth_date", "status", "description", "tags", "version")
    values: dict[str, Any] = {n: text(form, n) for n in names}
    values["names"] = _names(form)
    if protected:
        for name in PERSON_PROTECTED:
            values[name] = text(form, name)
    return values


def _person_form(
    request: Request,
    viewer: Viewer,
    case: CaseView,
    record: RecordView | None,
    values: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> Response:
    # a protected value hidden even from a role that may read them (no key to decrypt it)
    # is not in the form, and saving leaves it as it is (records_kit.changed_fields)
    hidden = set(record.hidden) if record is not None else set()
    shown = [(n, FIELD_NAMES.get(n, n)) for n in PERSON_PROTECTED if n not in hidden]
    protected = may(case, Permission.READ_PROTECTED) and may(case, Permission.EDIT) and bool(shown)
    names = list(values.get("names", []))
    rows = names + [{"value": "", "script": "", "kind": "variant"}] * max(2, 3 - len(names))
    if not names:
        rows[0] = {"value": "", "script": "", "kind": "primary"}
    return render(
        request,
        "person_form.html",
        viewer,
        {
            "case": case,
            "section": "people",
            "record": record,
            "values": values,
            "rows": rows,
            "error": error,
            "scripts": [s.value for s in Script],
            "name_kinds": NAME_KINDS,
            "sexes": [s.value for s in Sex],
            "statuses": [s.value for s in PersonStatus],
            "show_protected": protected,
            "protected_fields": shown,
            "some_hidden": bool(hidden),
            "may_edit": may(case, Permission.EDIT),
        },
        status=status,
    )


@router.get("/cases/{key}/people/new")
def new_person_page(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    require(case, Permission.EDIT)
    values = {"sex": "unknown", "status": "unknown", "names": []}
    return _person_form(request, viewer, case, None, values)


@router.post("/cases/{key}/people")
async def create_person(request: Request, key: str) -> Response:
    def again(viewer: Viewer, case: CaseView, form: FormData, error: str) -> Response:
        values = _person_form_values(form, may(case, Permission.READ_PROTECTED))
        return _person_form(request, viewer, case, None, values, error, 422)

    return await create_record(request, key, "person", _person_fields, again)


@router.get("/cases/{key}/people/{record}")
def person_page(request: Request, key: str, record: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    person = of_kind(state, actor, case, record, "person")
    links = state.work.links(actor, case.id, record)
    related = labels(state, actor, case.id, {other_end(link, record) for link in links})
    return render(
        request,
        "person.html",
        viewer,
        {
            "case": case,
            "section": "people",
            "person": person,
            "linked": linked(links, record, related),
            "protected_fields": [(n, FIELD_NAMES.get(n, n)) for n in PERSON_PROTECTED],
            "may_read_protected": may(case, Permission.READ_PROTECTED) and not person.hidden,
            **record_context(request, actor, case, person),
        },
    )


@router.get("/cases/{key}/people/{record}/edit")
def edit_person_page(request: Request, key: str, record: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    require(case, Permission.EDIT, Permission.ANNOTATE)
    person = of_kind(state_of(request), actor_of(request, viewer), case, record, "person")
    values = _person_values(person, may(case, Permission.READ_PROTECTED))
    return _person_form(request, viewer, case, person, values)


@router.post("/cases/{key}/people/{record}/edit")
async def edit_person(request: Request, key: str, record: str) -> Response:
    def again(
        viewer: Viewer, case: CaseView, current: RecordView, form: FormData, error: str, code: int
    ) -> Response:
        values = _person_form_values(form, may(case, Permission.READ_PROTECTED))
        values["version"] = current.version if code == 409 else values.get("version")
        return _person_form(request, viewer, case, current, values, error, code)

    return await edit_record(request, key, record, "person", _person_fields, again)
