"""How text becomes index terms, the same for documents and queries on every database.

A text is put in Unicode compatibility form (NFKC), apostrophes inside words are dropped
(``В'ячеслав``, ``пам’ять``), it is case-folded, Latin letters lose their accents
(``é`` -> ``e``) while Cyrillic letters keep theirs (``й``, ``ї`` stay; Russian ``ё`` becomes
``е``), and it is cut into *words*: runs of letters and digits. Every word is a term; no
stemming, no stop words, so SQLite FTS5 and PostgreSQL see exactly the same terms
(:func:`terms`), and match them the same way.

Cross-script: a word written in Cyrillic also gets two Latin *variants*: its Ukrainian
national transliteration (KMU 2010: ``Харків`` -> ``kharkiv``, ``Ягідне`` -> ``yahidne``) and
its Russian international-passport one (``Харьков`` -> ``kharkov``, ``Изюм`` -> ``izyum``).
A document's indexed body is its words followed by the same words in each variant
(:func:`body`), so a Latin query finds Cyrillic text; a Cyrillic query term matches its
own spelling or any of its variants (:func:`variants`), so ``Буча`` finds ``Bucha``.

Word forms and place names: after those blocks come, once each, the *extra* terms of the
document's words (:func:`svidok.search.forms.extras`): the lemmas of Cyrillic words and
their Latin spellings, and the other names of the Ukrainian cities it names. A query word
matches its own spelling, its Latin variants, or its lemmas, so ``Буча`` and ``Bucha`` find
``у Бучі``, and ``Kharkov`` finds ``Харків``. Phrases match exact word sequences only (their
words are not expanded to lemmas), and prefixes match spellings, not lemmas.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import translitua

from svidok.search.forms import extras

#: Positions in a PostgreSQL ``tsvector`` (higher ones would all be 16,383): extra terms
#: beyond it are left out, so that both databases see the same positions.
MAX_POSITIONS = 16_383
#: Terms longer than this are cut (PostgreSQL refuses lexemes over 2 KB).
MAX_TERM = 60
#: Words of one document that are indexed: the rest is left out of the index (with the
#: two variant blocks the body stays under PostgreSQL's 16,383 positions).
MAX_WORDS = 5000

_APOSTROPHE = re.compile(r"(?<=\w)['’ʼ`‘ʹ](?=\w)")
_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_MARK = "Mn"


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def fold(text: str) -> str:
    """Compatibility form, case-folded, apostrophes in words dropped, accents stripped from
    everything but Cyrillic letters."""
    text = _APOSTROPHE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    out: list[str] = []
    base = ""
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == _MARK:
            if _is_cyrillic(base):
                out.append(ch)
            continue
        base = ch
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out)).replace("ё", "е")


def words(text: str) -> list[str]:
    """The terms of ``text``, in order (see the module docstring)."""
    return [w[:MAX_TERM] for w in _WORD.findall(fold(text))]


def has_cyrillic(term: str) -> bool:
    return _CYRILLIC.search(term) is not None


def _one(text: str) -> str:
    return "".join(words(text))[:MAX_TERM]


@lru_cache(maxsize=65536)
def variants(term: str) -> tuple[str, ...]:
    """The Latin spellings of a term with Cyrillic in it: Ukrainian national, then Russian
    (Ukrainian letters the Russian system lacks are then spelled the Ukrainian way);
    duplicates and empty spellings left out. Nothing for a term without Cyrillic."""
    if not has_cyrillic(term):
        return ()
    ukrainian = _one(translitua.translit(term))
    russian = _one(
        translitua.translit(
            translitua.translit(term, translitua.RussianInternationalPassport1997)
        )
    )
    out: list[str] = []
    for v in (ukrainian, russian):
        if v and v != term and v not in out and not has_cyrillic(v):
            out.append(v)
    return tuple(out)


def body(text: str) -> list[str]:
    """The indexed terms of a document: its words (at most :data:`MAX_WORDS`), then, when
    some are Cyrillic, the same words in the Ukrainian and then the Russian Latin spelling,
    then the extra terms of its words (word forms, place names) not already there."""
    terms = words(text)[:MAX_WORDS]
    out = list(terms)
    if any(has_cyrillic(t) for t in terms):
        out.extend(_variant_blocks(terms))
    seen = set(out)
    room = MAX_POSITIONS - len(out)
    for t in dict.fromkeys(terms):
        for extra in extras(t):
            if room <= 0:
                return out
            if extra not in seen:
                seen.add(extra)
                out.append(extra)
                room -= 1
    return out


def _variant_blocks(terms: list[str]) -> list[str]:
    out: list[str] = []
    blocks: list[list[str]] = []
    for system in (0, 1):
        block = []
        for t in terms:
            v = variants(t)
            block.append(v[min(system, len(v) - 1)] if v else t)
        if block not in blocks and block != terms:
            blocks.append(block)
    for block in blocks:
        out.extend(block)
    return out
