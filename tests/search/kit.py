"""A case with records in Ukrainian, Russian and English, for the search tests."""

from __future__ import annotations

from dataclasses import dataclass

from svidok.cases.access import Actor, Role
from svidok.cases.service import Casework, open_casework
from svidok.home import Home

OPERATOR = Actor.operator("operator")


@dataclass
class World:
    work: Casework
    case: str
    other_case: str
    owner: Actor
    viewer: Actor
    outsider: Actor
    ids: dict[str, str]


def casework(home: Home) -> Casework:
    """The home's casework API with its own field key (as the web app opens it)."""
    return open_casework(home)


def _actor(work: Casework, name: str) -> Actor:
    user = work.add_user(OPERATOR, name, name.title(), admin=False)
    return Actor(name=user.username, user_id=user.id)


def build(home: Home) -> World:
    work = casework(home)
    owner, viewer, outsider = (_actor(work, n) for n in ("olena", "viktor", "outsider"))
    case = work.create_case(owner, {"reference": "UA-2022-KYIV", "title": "Kyiv oblast"}).id
    other = work.create_case(outsider, {"reference": "UA-2022-SECRET", "title": "Other"}).id
    work.grant(owner, case, viewer.user_id or "", Role.VIEWER)
    ids: dict[str, str] = {}

    def add(key: str, kind: str, fields: dict[str, object], case_id: str = case,
            actor: Actor = owner) -> None:
        ids[key] = work.create(actor, case_id, kind, fields).id

    add("bucha", "place", {"name": "Буча", "lat": 50.5436, "lon": 30.2127,
                           "admin_area": "Київська область"})
    add("irpin", "place", {"name": "Ірпінь", "lat": 50.5218, "lon": 30.2506,
                           "variants": [{"value": "Ирпень", "script": "Cyrl", "language": "ru"}]})
    add("hostomel", "place", {"name": "Гостомель", "lat": 50.5693, "lon": 30.2651})
    add("izium", "place", {"name": "Ізюм", "lat": 49.2128, "lon": 37.2569, "tags": ["east"]})
    add("mariupol", "place", {"name": "Мариуполь", "lat": 47.0971, "lon": 37.5434})
    add("kharkiv", "place", {"name": "Харків", "lat": 49.9935, "lon": 36.2304})
    add("yahidne_place", "place", {"name": "Ягідне", "admin_area": "Чернігівська область"})
    add("airport", "incident", {"title": "<b>Гостомель</b> airport & <script>x()</script>"})
    add("yahidne", "incident", {
        "title": "Підвал у Ягідному",
        "description": "Жителів Ягідного утримували в підвалі школи майже місяць.",
        "time": {"start": "2022-03-03", "end": "2022-03-31", "precision": "day"},
        "status": "corroborated", "tags": ["detention"]})
    add("yablunska", "incident", {
        "title": "Killings on Yablunska Street, Bucha",
        "description": "Bodies of civilians found on Yablunska Street after the withdrawal.",
        "time": {"start": "2022-04-01", "precision": "day"}, "tags": ["killing"],
        "places": [ids["bucha"]]})
    add("witness", "person", {
        "names": [{"value": "Свідок В'ячеслав", "script": "Cyrl", "kind": "pseudonym"}],
        "description": "Бачив колону техніки на вулиці Яблунській. Пам’ять ясна.",
        "legal_name": "Григорій Ґонта", "contact": "+380 44 000 0000 Єлизавета Sealedova",
        "status": "alive"})
    add("photo", "item", {
        "title": "Фото: зруйнований міст в Ірпені", "item_kind": "photo",
        "description": "Міст через річку Ірпінь, зруйнований 2022-03-05.",
        "captured": {"start": "2022-03-05T10:00:00+02:00", "precision": "minute"},
        "location": {"lat": 50.5225, "lon": 30.2550}, "credibility": 2,
        "tags": ["bridge", "infrastructure"]})
    add("report", "item", {
        "title": "Отчёт о событиях в Изюме", "item_kind": "report",
        "description": "Массовое захоронение в лесу под Изюмом; Харьков, Мариуполь.",
        "captured": {"start": "2022-09-16", "precision": "day"}, "credibility": 3})
    add("source", "source", {"name": "Kharkiv Human Rights Group", "source_type": "organisation",
                             "reliability": "B", "contact": "Secret Contactname"})
    add("secret", "incident", {"title": "Буча secret incident"}, other, outsider)
    return World(work, case, other, owner, viewer, outsider, ids)
