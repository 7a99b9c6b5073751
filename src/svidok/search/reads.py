"""Recording what a search showed of the evidence.

A result's snippet may quote the text extracted from an item's original (a PDF's text, a
transcript, a captured page's text): that is a read of evidence, and every read is
recorded. Each search response (command line, API, web page) that shows such snippets is
preceded by one ``search.read`` entry per item shown that way (its case, record and
original, the purpose ``search`` and the way ``cli``, ``api`` or ``web``), so that the read
shows in that item's custody history like any other view of it. The query itself may hold
a witness's name, so it is never written in clear: only a keyed hash of its normalised words
(HMAC-SHA256 with the data home's field key, :meth:`svidok.protect.FieldCipher.blind`), which
lets whoever holds the key check whether a given query was asked, and nobody else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sqlalchemy import select

from svidok.cases.access import Actor
from svidok.catalog import schema as s
from svidok.home import Home
from svidok.ledger.entries import Draft, Entry, JSONValue
from svidok.search.index import TEXT_KIND
from svidok.search.normalise import words
from svidok.search.service import Results

ENTRY = "search.read"
PURPOSE = "search"
QUERY_CONTEXT = "search.query"  # the blinding context of the query hash
Via = Literal["cli", "api", "web"]
Blind = Callable[[str, str], str]


def field_blind(home: Home) -> Blind | None:
    """The keyed hash of the data home's field key (None when it has none yet)."""
    from svidok.protect import FieldCipher

    path = home.path / "keys" / "fields.key"
    return FieldCipher.load_or_create(path).blind if path.exists() else None


def shown_texts(home: Home, results: Results) -> list[dict[str, JSONValue]]:
    """The items among the results whose snippet was drawn from text that includes the
    text extracted from their original: ``{case, record, object}`` each, in result order."""
    items = {h.record: h for h in results.hits if h.kind == "item" and h.snippet}
    if not items:
        return []
    r, d = s.records.c, s.derivatives.c
    with home.catalog.engine.connect() as conn:
        with_text = {
            str(row.id): str(row.object_id)
            for row in conn.execute(
                select(r.id, r.object_id)
                .join(s.derivatives, d.source_id == r.object_id)
                .join(s.search_texts, s.search_texts.c.object_id == d.object_id)
                .where(r.id.in_(sorted(items)), d.kind == TEXT_KIND)
            )
        }
    return [
        {"case": hit.case, "record": hit.record, "object": with_text[hit.record]}
        for hit in results.hits
        if hit.record in with_text
    ]


def record_read(home: Home, actor: Actor, results: Results, via: Via,
                blind: Blind | None) -> list[Entry]:
    """Write (durably, in one commit) the ``search.read`` entries of a response about to be
    shown: one per item whose extracted text it shows (none when it shows no such text)."""
    shown = shown_texts(home, results)
    if not shown:
        return []
    common: dict[str, JSONValue] = {"purpose": PURPOSE, "via": via}
    if blind is not None and results.query.strip():
        common["query"] = blind(" ".join(words(results.query)), QUERY_CONTEXT)
    if actor.user_id is not None:
        common["by"] = actor.user_id
    drafts = [Draft(ENTRY, actor.name, {**item, **common}) for item in shown]
    with home.writing():
        return home.commit(drafts)
