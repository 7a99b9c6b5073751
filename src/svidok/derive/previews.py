"""Making the previews of stored originals (``svidok previews``, and the web server after
an upload): each original whose kinds of preview (:func:`render.preview_kinds`) are not yet
stored by the current algorithm is rendered in an isolated worker
(:func:`render.render_previews`) and the pictures are stored as derivatives
(:mod:`svidok.derive.store`). A rendering that fails is recorded in the ledger as a
``derivative.failed`` entry naming the original, the algorithm and why, in plain words, and
is not tried again by the same algorithm unless asked (``retry``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from svidok.catalog import schema as s
from svidok.catalog.casework import find_case_id
from svidok.derive.render import ALGORITHM, preview_kinds, render_previews
from svidok.derive.store import DerivativeSpec, existing, store_derivatives
from svidok.errors import PathEscapeError, SvidokError
from svidok.home import Home
from svidok.ledger.entries import Draft, JSONValue

BATCH = 16  # originals rendered before their previews are stored together


@dataclass
class PreviewReport:
    originals: int = 0  # originals looked at
    rendered: int = 0  # originals with new previews
    stored: int = 0  # derivative entries written
    unchanged: int = 0  # originals whose previews were all there already
    failed: list[tuple[str, str]] = field(default_factory=list)  # (object, why)

    def to_json(self) -> dict[str, Any]:
        return {"originals": self.originals, "rendered": self.rendered, "stored": self.stored,
                "unchanged": self.unchanged,
                "failed": [{"object": o, "reason": r} for o, r in self.failed]}


def _originals(
    home: Home, case: str | None, objects: Sequence[str] | None
) -> list[tuple[str, str, str]]:
    """(object id, media type, logical path) of the originals (objects some acquisition
    names): those acquired for ``case`` (reference or UUID) if given, those of ``objects``
    if given."""
    a, o = s.acquisitions.c, s.objects.c
    received = select(a.object_id)
    query = select(o.id, o.media_type, o.logical_path)
    if objects is not None:
        query = query.where(o.id.in_(list(objects)))
    with home.catalog.engine.connect() as conn:
        if case is not None:
            case_id = find_case_id(conn, case)
            if case_id is None:
                raise SvidokError(f"no case {case!r}")
            reference = conn.execute(
                select(s.cases.c.reference).where(s.cases.c.id == case_id)).scalar_one()
            received = received.where(a.case_name.in_([case_id, reference]))
        query = query.where(o.id.in_(received)).order_by(o.first_entry)
        return [(str(r.id), str(r.media_type), str(r.logical_path))
                for r in conn.execute(query)]


def _settled(home: Home, objects: Sequence[str], retry: bool) -> dict[str, set[str]]:
    """Per object, the kinds this algorithm already made, or tried and failed (unless
    ``retry``): those are not rendered again."""
    done: dict[str, set[str]] = {}
    for source, kind, algorithm in existing(home, objects):
        if algorithm.split(" ", 1)[0] == ALGORITHM:
            done.setdefault(source, set()).add(kind)
    if not retry:
        e = s.entries.c
        with home.catalog.engine.connect() as conn:
            for i in range(0, len(objects), 500):
                for r in conn.execute(select(e.object_id).where(
                        e.object_id.in_(list(objects[i : i + 500])),
                        e.type == "derivative.failed")):
                    done.setdefault(str(r.object_id), set()).add("*")
    return done


def make_previews(
    home: Home, actor: str, *, case: str | None = None, objects: Sequence[str] | None = None,
    retry: bool = False, progress: Callable[[int, int], None] | None = None,
) -> PreviewReport:
    """Render and store the missing previews of the originals (of ``case``, or those named
    in ``objects``, or all); failures recorded, never raised."""
    report = PreviewReport()
    todo = _originals(home, case, objects)
    settled = _settled(home, [t[0] for t in todo], retry)
    specs: list[DerivativeSpec] = []
    failures: list[Draft] = []
    for number, (obj, media_type, logical) in enumerate(todo, start=1):
        report.originals += 1
        kinds = set(preview_kinds(media_type))
        have = settled.get(obj, set())
        if not kinds or kinds <= have or "*" in have:
            report.unchanged += 1
        else:
            try:
                made, errors = render_previews(_content_path(home, obj, logical), media_type)
            except (SvidokError, OSError) as exc:  # recorded like any other failure
                made, errors = [], [f"the original could not be read from the store: {exc}"]
            fresh = [r for r in made if r.kind not in have]
            specs.extend(DerivativeSpec(obj, r.kind, r.media_type, r.data, r.algorithm,
                                        dict(r.params)) for r in fresh)
            report.rendered += 1 if fresh else 0
            if errors:
                reason = "; ".join(errors)
                report.failed.append((obj, reason))
                data: dict[str, JSONValue] = {
                    "object": obj, "algorithm": ALGORITHM, "media_type": media_type,
                    "errors": list[JSONValue](errors),
                    "made": list[JSONValue](sorted(r.kind for r in made))}
                failures.append(Draft("derivative.failed", actor, data))
        if len(specs) + len(failures) >= BATCH or number == len(todo):
            entries = store_derivatives(home, specs, actor, also=failures)
            report.stored += sum(e.type == "derivative" for e in entries)
            specs, failures = [], []
        if progress is not None:
            progress(number, len(todo))
    return report


def _content_path(home: Home, obj: str, logical: str) -> Path:
    """The stored file of an original (never a link, never outside the store)."""
    info = home.store.content_info(obj)
    digest = obj.removeprefix("sha256:")
    for f in info.files:
        if f.digest == digest or f.logical_path == logical:
            path = info.path / f.content_path
            if path.is_symlink() or not path.resolve().is_relative_to(
                    home.store.root.resolve()):
                raise PathEscapeError(f"object {obj}: its content path leaves the store")
            return path
    raise SvidokError(f"object {obj} holds no content file for its original")
