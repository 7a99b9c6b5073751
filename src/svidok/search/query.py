"""The query language, and how a query is written for each database.

A query is words, all of which must match (AND), ``"quoted phrases"`` (the words next to
each other, in order) and ``prefix*`` words. Nothing else is syntax: every other character
only separates words, so text typed by a user never reaches FTS5's or PostgreSQL's query
syntax as it is. Each term is rewritten from the normalised words (:mod:`.normalise`) as
quoted strings, with its Latin variants as alternatives (``Буча`` -> ``буча OR bucha``),
and, for a single Cyrillic word (not a phrase, not a prefix), its lemmas
(``Бучі`` -> ``бучі OR buchi OR buchy OR буча``; see :mod:`.forms`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from svidok.errors import SearchError
from svidok.search.forms import lemmas
from svidok.search.normalise import variants, words

MAX_QUERY = 500  # characters
MAX_TERMS = 16
MIN_PREFIX = 2  # characters before a ``*``

_PIECE = re.compile(r'"([^"]*)"?|([^\s"]+)')


@dataclass(frozen=True)
class Term:
    """One term: a word (``prefix``: any word starting with it) or a phrase of words."""

    words: tuple[str, ...]
    prefix: bool = False

    def spellings(self) -> list[tuple[str, ...]]:
        """The term as written and in each Latin variant (word by word), then a single
        word's lemmas, no duplicates."""
        out = [self.words]
        if len(self.words) == 1 and not self.prefix:
            out.extend((lemma,) for lemma in lemmas(self.words[0]))
        if any(variants(w) for w in self.words):
            for system in (0, 1):
                spelled = tuple(
                    (variants(w)[min(system, len(variants(w)) - 1)] if variants(w) else w)
                    for w in self.words
                )
                if spelled not in out:
                    out.append(spelled)
        return out


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    def fts5(self) -> str:
        """The FTS5 MATCH expression: every term quoted, alternatives ORed, terms ANDed."""
        parts = []
        for term in self.terms:
            options = []
            for spelled in term.spellings():
                quoted = '"' + " ".join(spelled) + '"'
                options.append(quoted + " *" if term.prefix else quoted)
            parts.append("(" + " OR ".join(options) + ")")
        return " AND ".join(parts)

    def tsquery(self) -> str:
        """The PostgreSQL ``tsquery`` text: lexemes quoted, phrases with ``<->``, prefixes
        with ``:*``, alternatives ORed, terms ANDed."""
        parts = []
        for term in self.terms:
            options = []
            for spelled in term.spellings():
                lexemes = [f"'{w}'" for w in spelled]
                if term.prefix:
                    lexemes[-1] += ":*"
                options.append("(" + " <-> ".join(lexemes) + ")")
            parts.append("(" + " | ".join(options) + ")")
        return " & ".join(parts)

    def matchers(self) -> list[tuple[str, bool]]:
        """Every (term, is prefix) a document word may match, for highlighting."""
        out: list[tuple[str, bool]] = []
        for term in self.terms:
            for spelled in term.spellings():
                for i, w in enumerate(spelled):
                    out.append((w, term.prefix and i == len(spelled) - 1))
        return out


def parse(text: str) -> Query:
    """The query in ``text``; ``SearchError`` when it is too long or has too many terms."""
    if len(text) > MAX_QUERY:
        raise SearchError(f"the query is too long (at most {MAX_QUERY} characters)")
    text = text.replace("\x00", " ")
    terms: list[Term] = []
    for match in _PIECE.finditer(text):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            found = words(phrase)
            if found:
                terms.append(Term(tuple(found)))
            continue
        prefix = word.endswith("*")
        found = words(word)
        if not found:
            continue
        if prefix and len(found[-1]) < MIN_PREFIX:
            raise SearchError(
                f"a word ending in * needs at least {MIN_PREFIX} letters before the *"
            )
        terms.append(Term(tuple(found), prefix=prefix))
    if len(terms) > MAX_TERMS:
        raise SearchError(f"too many words in the query (at most {MAX_TERMS})")
    return Query(tuple(dict.fromkeys(terms)))
