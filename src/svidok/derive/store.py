"""Storing derivatives: previews made from an object, each kept as an OCFL object of its
own and recorded by a ``derivative`` entry naming the object it was made from. The
original's object is never touched.

The steps are intake's (src/svidok/intake/ingest.py): the new objects are built in a
private workspace, an intent naming each prepared object and its entry is written, one
``syncfs`` makes all of it durable, the objects are moved into the store, ``syncfs``
again, then the entries are appended. A crash anywhere leaves a home that verifies, and the
next command that writes records what was placed (``Home._recover_intents``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from svidok._fs import syncfs
from svidok.catalog import schema as s
from svidok.errors import ObjectExistsError
from svidok.home import Home
from svidok.ledger.entries import Draft, Entry, JSONValue
from svidok.store.ocfl import NewObject, OcflStore

_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "text/plain": ".txt"}
_names = itertools.count()


@dataclass(frozen=True)
class DerivativeSpec:
    """A derivative to store: made from ``source`` (an object id) by ``algorithm``."""

    source: str
    kind: str
    media_type: str
    data: bytes
    algorithm: str
    params: dict[str, JSONValue]


def existing(home: Home, sources: Sequence[str]) -> set[tuple[str, str, str]]:
    """(source, kind, algorithm) of the derivatives already recorded for ``sources``."""
    d = s.derivatives.c
    found: set[tuple[str, str, str]] = set()
    with home.catalog.engine.connect() as conn:
        for i in range(0, len(sources), 500):
            chunk = list(sources[i : i + 500])
            found.update(
                (str(r.source_id), str(r.kind), str(r.algorithm))
                for r in conn.execute(
                    select(d.source_id, d.kind, d.algorithm).where(d.source_id.in_(chunk))
                )
            )
    return found


def derivatives_of(home: Home, source: str) -> list[dict[str, Any]]:
    """The derivatives recorded for object ``source``, newest first: entry, object, kind,
    media type, logical path, algorithm, params."""
    d, o = s.derivatives.c, s.objects.c
    with home.catalog.engine.connect() as conn:
        rows = conn.execute(
            select(d.entry, d.object_id, d.kind, d.media_type, d.algorithm, d.params,
                   o.logical_path)
            .join(s.objects, o.id == d.object_id)
            .where(d.source_id == source)
            .order_by(d.entry.desc())
        ).all()
    return [
        {"entry": int(r.entry), "object": str(r.object_id), "kind": str(r.kind),
         "media_type": str(r.media_type), "logical_path": str(r.logical_path),
         "algorithm": str(r.algorithm), "params": json.loads(r.params)}
        for r in rows
    ]


def store_derivatives(
    home: Home, specs: Sequence[DerivativeSpec], actor: str, also: Sequence[Draft] = ()
) -> list[Entry]:
    """Store ``specs`` (skipping any already recorded with the same source, kind and
    algorithm) and append one ``derivative`` entry each, then ``also`` (other drafts, such
    as ``derivative.failed``) under the same checkpoint; the entries back."""
    done = existing(home, sorted({spec.source for spec in specs}))
    todo = [sp for sp in specs if (sp.source, sp.kind, sp.algorithm) not in done]
    if not todo and not also:
        return []
    drafts: list[Draft] = []
    with home.workspace() as ws, home.store.batch(ws.staging) as objects:
        prepared = []
        in_batch: set[str] = set()
        for spec in todo:
            if spec.media_type not in _EXTENSIONS:
                raise ValueError(
                    f"a derivative is a JPEG or PNG picture or UTF-8 text, not {spec.media_type}")
            digest = hashlib.sha256(spec.data).hexdigest()
            object_id = OcflStore.object_id(digest)
            logical = spec.kind + _EXTENSIONS[spec.media_type]
            new = object_id not in in_batch and not home.store.has_object(object_id)
            if new:
                staged = ws.new_staging_file()
                with staged.open("wb") as out:
                    out.write(spec.data)
                    os.fsync(out.fileno())
                try:
                    obj = objects.prepare(NewObject(
                        object_id, staged, digest_hex=digest, size=len(spec.data),
                        logical_name=logical, created=datetime.now(UTC),
                        message=f"{spec.kind} of {spec.source} ({spec.algorithm})",
                        user_name=actor,
                    ))
                except ObjectExistsError:
                    new = False
            else:
                stored = home.catalog_logical_path(object_id)
                logical = stored or logical
            draft = Draft("derivative", actor, {
                "object": object_id, "source": spec.source, "kind": spec.kind,
                "media_type": spec.media_type, "size": len(spec.data), "logical_path": logical,
                "new_object": new, "algorithm": spec.algorithm, "params": dict(spec.params),
            })
            drafts.append(draft)
            if new:
                in_batch.add(object_id)
                prepared.append((obj, draft))
        if prepared:
            ws.write_intents(f"derivatives-{next(_names):06d}",
                             [(obj.inventory_digest, [draft]) for obj, draft in prepared])
            syncfs(home.path)  # staged bytes, objects and intents durable before any move
            for obj, draft in prepared:
                try:
                    objects.place(obj)
                except ObjectExistsError:  # another run stored the same bytes first
                    objects.discard(obj)
                    draft.data["new_object"] = False
            syncfs(home.path)
        with home.writing():
            return home.commit([*drafts, *also])
