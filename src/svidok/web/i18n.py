"""The interface's languages: English (the messages themselves) and Ukrainian.

Messages are marked in templates (``_()``, ``{% trans %}``) and Python (:func:`N_`), and
extracted with Babel (``pybabel extract -F babel.cfg``) into ``locale/*/LC_MESSAGES/
messages.po``. The catalogs are read from the ``.po`` files at start-up (no compiled
``.mo`` file is kept in the repository). The language is the one chosen on the page
(a cookie), or else the best match of the browser's ``Accept-Language``.
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
#: language code -> its name in that language
LANGUAGES = {"en": "English", "uk": "Українська"}
LANG_COOKIE = "svidok_lang"


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (English: the messages as written)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_current: ContextVar[str] = ContextVar("svidok_web_lang", default=DEFAULT)


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else DEFAULT)


def language() -> str:
    return _current.get()


def gettext_(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language to answer in: the chosen one, else the browser's best, else English."""
    if cookie in LANGUAGES:
        return str(cookie)
    wanted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(",")[:20]:
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        wanted.append((quality, tag.strip().replace("-", "_")))
    wanted.sort(key=lambda pair: -pair[0])
    preferred = [tag for quality, tag in wanted if quality > 0]
    try:
        found = Locale.negotiate(preferred, list(LANGUAGES), sep="_")
    except (UnknownLocaleError, ValueError):
        found = None
    return str(found) if found is not None and str(found) in LANGUAGES else DEFAULT
