"""The violation taxonomy: the shipped Rome Statute one, custom files, and its use."""

from __future__ import annotations

from pathlib import Path

import pytest

from svidok.cases.access import Actor
from svidok.cases.service import Casework, CaseworkError
from svidok.cases.taxonomy import Taxonomy, rome_statute
from svidok.errors import ConfigError
from svidok.home import Home


def test_rome_statute_articles_7_and_8() -> None:
    tax = rome_statute()
    by_article: dict[str, int] = {}
    for c in tax.categories:
        key = "7(1)" if c.article.startswith("7") else c.article[: len("8(2)(a)")]
        by_article[key] = by_article.get(key, 0) + 1
    # art. 7(1)(a)-(k); art. 8(2)(a)(i)-(viii), (b)(i)-(xxvi), (c)(i)-(iv), (e)(i)-(xii)
    assert by_article == {"7(1)": 11, "8(2)(a)": 8, "8(2)(b)": 26, "8(2)(c)": 4, "8(2)(e)": 12}
    assert "art7-1-a" in tax and "art8-2-b-xxvi" in tax and "art8-2-b-xxvii" not in tax
    murder = next(c for c in tax.categories if c.code == "art7-1-a")
    assert murder.article == "7(1)(a)" and "murder" in murder.label


def test_incident_categories_must_be_in_the_taxonomy(home: Home, tmp_path: Path) -> None:
    op = Actor.operator("op")
    work = Casework(home)
    case = work.create_case(op, {"reference": "T-1", "title": "t"}).id
    ok = work.create(op, case, "incident", {"title": "x", "categories": ["art8-2-b-ii"]})
    assert ok.fields["categories"] == ["art8-2-b-ii"]
    with pytest.raises(CaseworkError, match="not in the taxonomy"):
        work.create(op, case, "incident", {"title": "x", "categories": ["made-up"]})
    own = tmp_path / "tax.json"
    own.write_text(
        '{"id": "ngo-1", "title": "Our codes", "categories": '
        '[{"code": "shelling", "label": "Shelling of housing"}]}',
        encoding="utf-8",
    )
    custom = Casework(home, taxonomy=Taxonomy.load(own))
    assert custom.create(op, case, "incident", {"title": "y", "categories": ["shelling"]})
    with pytest.raises(CaseworkError, match="ngo-1"):
        custom.create(op, case, "incident", {"title": "y", "categories": ["art8-2-b-ii"]})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"id": "x", "title": "t", "categories": []}',
        '{"id": "x", "title": "t", "categories": [{"code": "A B", "label": "l"}]}',
        '{"id": "x", "title": "t", "categories": '
        '[{"code": "a", "label": "l"}, {"code": "a", "label": "m"}]}',
    ],
)
def test_bad_taxonomy_files_are_refused(text: str, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"t\.json"):
        Taxonomy.load(path)


def test_the_data_home_setting_chooses_the_taxonomy(home_path: Path) -> None:
    from svidok.cases.service import open_casework

    (home_path / "ours.json").write_text(
        '{"id": "ours", "title": "t", "categories": [{"code": "shelling", "label": "l"}]}',
        encoding="utf-8",
    )
    settings = home_path / "svidok.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace('# taxonomy = "/etc/svidok/our-categories.json"', 'taxonomy = "ours.json"'),
        encoding="utf-8",
    )
    with Home.open(home_path) as h:
        work = open_casework(h)
        assert work.taxonomy.id == "ours"
    settings.write_text(text.replace("[casework]", "[casework]\ncolour = 1"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"casework\.colour"):
        Home.open(home_path)
