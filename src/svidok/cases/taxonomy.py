"""Violation categories for incidents: a taxonomy file (JSON), configurable per data home.

Svidok ships one built on the Rome Statute of the International Criminal Court, articles 7
(crimes against humanity) and 8 (war crimes): ``taxonomies/rome-statute.json``. Another
file of the same shape can be configured (docs/configuration.md, ``casework.taxonomy``):

    {"id": "...", "title": "...", "source": "...",
     "categories": [{"code": "art8-2-a-i", "article": "8(2)(a)(i)", "label": "..."}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from svidok.errors import ConfigError

_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


@dataclass(frozen=True)
class Category:
    code: str
    article: str
    label: str


@dataclass(frozen=True)
class Taxonomy:
    id: str
    title: str
    source: str
    categories: tuple[Category, ...]

    def __contains__(self, code: object) -> bool:
        return any(c.code == code for c in self.categories)

    def unknown(self, codes: list[str]) -> list[str]:
        known = {c.code for c in self.categories}
        return [c for c in codes if c not in known]

    @classmethod
    def parse(cls, text: str, where: str) -> Taxonomy:
        """Read a taxonomy document; ``ConfigError`` naming ``where`` if it is not one."""
        try:
            doc = json.loads(text)
            cats = tuple(
                Category(str(c["code"]), str(c.get("article", "")), str(c["label"]))
                for c in doc["categories"]
            )
            taxonomy = cls(str(doc["id"]), str(doc["title"]), str(doc.get("source", "")), cats)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{where} is not a taxonomy file: {exc}") from None
        codes = [c.code for c in cats]
        if not codes or len(set(codes)) != len(codes):
            raise ConfigError(f"{where}: categories must be present and their codes unique")
        bad = [c for c in codes if not c or not set(c) <= _CODE_CHARS or len(c) > 200]
        if bad:
            raise ConfigError(
                f"{where}: codes are lower-case letters, digits, '-', '.', '_': {bad[:3]}"
            )
        return taxonomy

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the taxonomy file {path}: {exc}") from None
        return cls.parse(text, str(path))


@cache
def rome_statute() -> Taxonomy:
    """The taxonomy Svidok ships: Rome Statute arts. 7(1) and 8(2)."""
    resource = files("svidok.cases").joinpath("taxonomies/rome-statute.json")
    return Taxonomy.parse(resource.read_text(encoding="utf-8"), "rome-statute.json")
