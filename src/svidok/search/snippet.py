"""Snippets: a short window of a record's text around the words a query matched, as
segments marked or not (each layer escapes or styles them itself)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from svidok.search.forms import extras
from svidok.search.normalise import variants, words

WIDTH = 240  # characters shown
_BEFORE = 60  # characters shown before the first match
_SCAN = 100_000  # characters looked through for a match
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)*")


@dataclass(frozen=True)
class Segment:
    text: str
    match: bool

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "match": self.match}


@lru_cache(maxsize=65536)
def _forms(word: str) -> frozenset[str]:
    """Every term a word of the text is indexed under: its spellings, lemmas, city names."""
    return frozenset(
        form for term in words(word) for form in (term, *variants(term), *extras(term)))


def _matches(word: str, exact: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    forms = _forms(word)
    if not exact.isdisjoint(forms):
        return True
    return bool(prefixes) and any(form.startswith(prefixes) for form in forms)


def snippet(text: str, matchers: Sequence[tuple[str, bool]]) -> tuple[Segment, ...]:
    """About :data:`WIDTH` characters of ``text`` from just before its first matching word,
    the matching words marked (the start when nothing matches, or nothing is asked)."""
    spans: list[tuple[int, int]] = []
    start = 0
    exact = frozenset(wanted for wanted, prefix in matchers if not prefix)
    prefixes = tuple(wanted for wanted, prefix in matchers if prefix)
    if matchers:
        for m in _TOKEN.finditer(text, 0, min(len(text), _SCAN)):
            if spans and m.start() > start + WIDTH:
                break
            if _matches(m.group(), exact, prefixes):
                if not spans:
                    start = max(0, m.start() - _BEFORE)
                    space = text.rfind(" ", 0, start + 1) if start else -1
                    start = space + 1 if start and space >= 0 else start
                spans.append(m.span())
    end = min(len(text), start + WIDTH)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    out: list[Segment] = []
    pos = start
    for a, b in spans:
        if b > end:
            break
        if a > pos:
            out.append(Segment(text[pos:a], False))
        out.append(Segment(text[a:b], True))
        pos = b
    if pos < end:
        out.append(Segment(text[pos:end], False))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    cleaned = [Segment(_SPACE.sub(" ", seg.text), seg.match) for seg in out]
    if cleaned and prefix:
        cleaned.insert(0, Segment(prefix, False))
    if cleaned and suffix:
        cleaned.append(Segment(suffix, False))
    return tuple(cleaned)
