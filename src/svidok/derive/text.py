"""The text of stored originals, for search: PDF text and plain-text files (testimony
transcripts, the page text of web captures), extracted in an isolated, resource-limited
worker (:mod:`svidok.derive._text_worker`, the limits of :mod:`svidok._isolate`) and
stored as a ``text`` derivative: a UTF-8 ``text/plain`` object of its own, so the search
index can be made again (``svidok rebuild``) without extracting anything again.

An original whose text cannot be read gets a ``text.failed`` entry (why, in plain words) and
is not tried again by the same algorithm unless asked (``retry``). At most
:data:`MAX_CHARS` characters are kept per original; the index reads the first
:data:`svidok.search.normalise.MAX_WORDS` words of an item's text.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import insert, select

from svidok._isolate import EXIT_MEMORY, cpu_allowance, worker_command, worker_environment
from svidok.catalog import schema as s
from svidok.derive.previews import _content_path, _originals
from svidok.derive.store import DerivativeSpec, existing, store_derivatives
from svidok.errors import SvidokError
from svidok.home import Home
from svidok.intake.extract_model import clean_text, format_bytes, format_seconds
from svidok.intake.extract_pipe import EOF, TIMEOUT, WorkerProcess
from svidok.ledger.entries import Draft, JSONValue
from svidok.search import index as search_index
from svidok.store.ocfl import OcflStore

ALGORITHM: Final = "svidok-text/1"
KIND: Final = search_index.TEXT_KIND
MAX_CHARS: Final = 500_000
BATCH: Final = 16
_KINDS: Final = {"application/pdf": "pdf", "text/plain": "plain", "text/markdown": "plain"}


def text_kind(media_type: str) -> str | None:
    """``pdf`` or ``plain`` for the media types whose text is extracted, else None."""
    return _KINDS.get(media_type.split(";", 1)[0].strip().lower())


@dataclass(frozen=True)
class Extracted:
    text: str
    pages: int | None
    truncated: bool


def extract_text(path: Path, media_type: str, *, timeout: float = 60.0,
                 memory_limit: int = 512 << 20) -> tuple[Extracted | None, list[str]]:
    """(the text, or None; errors in plain words). Never raises for what the file holds."""
    kind = text_kind(media_type)
    if kind is None:
        return None, []
    cpu = cpu_allowance(timeout)
    command = worker_command("svidok.derive._text_worker", memory_limit, cpu,
                             "--max-chars", str(MAX_CHARS))
    try:
        worker = WorkerProcess(command, worker_environment())
    except (OSError, ValueError) as exc:
        return None, [f"the text extractor could not be started: {exc}"]
    deadline = time.monotonic() + timeout
    result: Extracted | None = None
    errors: list[str] = []
    reply: dict[str, object] | str = EOF
    try:
        worker.send({"path": str(path.absolute()), "kind": kind})
        reply = worker.receive(deadline)
        if isinstance(reply, dict):
            if isinstance(reply.get("error"), str):
                errors.append(clean_text(str(reply["error"]), 500))
            elif isinstance(reply.get("text"), str):
                pages = reply.get("pages")
                result = Extracted(str(reply["text"]), pages if isinstance(pages, int) else None,
                                   bool(reply.get("truncated")))
            else:
                errors.append("the text extractor sent an unreadable reply")
            reply = worker.receive(deadline)
    except OSError:
        reply = EOF
    finally:
        if not isinstance(reply, dict):
            worker.kill()
    code = worker.reap()
    if not isinstance(reply, dict) and not errors and result is None:
        if reply == TIMEOUT:
            errors.append(f"stopped after {format_seconds(timeout)}")
        elif code == EXIT_MEMORY:
            errors.append(f"out of memory ({format_bytes(memory_limit)})")
        else:
            errors.append(f"the text extractor ended unexpectedly (status {code})")
    return result, errors


@dataclass
class TextReport:
    originals: int = 0  # originals whose media type has text
    extracted: int = 0  # texts stored
    unchanged: int = 0  # already extracted (or failed before, without retry)
    loaded: int = 0  # texts read back from the store into the index
    failed: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"originals": self.originals, "extracted": self.extracted,
                "unchanged": self.unchanged, "loaded": self.loaded,
                "failed": [{"object": o, "reason": r} for o, r in self.failed]}


def _settled(home: Home, objects: Sequence[str], retry: bool) -> set[str]:
    done = {src for src, kind, alg in existing(home, objects) if kind == KIND}
    if not retry:
        e = s.entries.c
        with home.catalog.engine.connect() as conn:
            for i in range(0, len(objects), 500):
                done.update(str(v) for v in conn.execute(select(e.object_id).where(
                    e.object_id.in_(list(objects[i : i + 500])),
                    e.type == "text.failed")).scalars())
    return done


def _remember(home: Home, text_object: str, text: str) -> None:
    """The text in the catalog's cache before its entry is projected (the index reads it)."""
    t = s.search_texts.c
    with home.catalog.engine.begin() as conn:
        if conn.execute(select(t.object_id).where(t.object_id == text_object)).first() is None:
            conn.execute(insert(s.search_texts), [{"object_id": text_object, "text": text}])


def make_texts(home: Home, actor: str, *, case: str | None = None,
               objects: Sequence[str] | None = None, retry: bool = False,
               progress: Callable[[int, int], None] | None = None) -> TextReport:
    """Extract and store the missing texts of the originals (of ``case``, or of
    ``objects``, or all), then load into the index any stored text it lacks."""
    report = TextReport()
    todo = [t for t in _originals(home, case, objects) if text_kind(t[1])]
    settled = _settled(home, [t[0] for t in todo], retry)
    specs: list[DerivativeSpec] = []
    failures: list[Draft] = []
    for number, (obj, media_type, logical) in enumerate(todo, start=1):
        report.originals += 1
        if obj in settled:
            report.unchanged += 1
        else:
            try:
                got, errors = extract_text(_content_path(home, obj, logical), media_type)
            except (SvidokError, OSError) as exc:
                got, errors = None, [f"the original could not be read from the store: {exc}"]
            if got is not None:
                data = got.text.encode("utf-8")
                _remember(home, OcflStore.object_id(hashlib.sha256(data).hexdigest()), got.text)
                params: dict[str, JSONValue] = {"chars": len(got.text), "pages": got.pages,
                                                "truncated": got.truncated}
                specs.append(DerivativeSpec(obj, KIND, "text/plain", data, ALGORITHM, params))
            else:
                report.failed.append((obj, "; ".join(errors)))
                failures.append(Draft("text.failed", actor, {
                    "object": obj, "algorithm": ALGORITHM, "media_type": media_type,
                    "errors": list[JSONValue](errors)}))
        if len(specs) + len(failures) >= BATCH or number == len(todo):
            entries = store_derivatives(home, specs, actor, also=failures)
            report.extracted += sum(e.type == "derivative" for e in entries)
            specs, failures = [], []
        if progress is not None:
            progress(number, len(todo))
    report.loaded = load_texts(home)
    return report


def load_texts(home: Home) -> int:
    """Read into the index the stored texts it lacks (after ``svidok rebuild``, or on a
    catalog made elsewhere); the number read. A text missing from the store is left out
    (``svidok verify`` reports the store's problems)."""
    d, t, o = s.derivatives.c, s.search_texts.c, s.objects.c
    with home.catalog.engine.connect() as conn:
        missing = conn.execute(
            select(d.object_id, o.logical_path).distinct()
            .join(s.objects, o.id == d.object_id)
            .where(d.kind == KIND, d.object_id.not_in(select(t.object_id)))
        ).all()
    loaded = 0
    for i in range(0, len(missing), 200):
        texts: dict[str, str] = {}
        for r in missing[i : i + 200]:
            try:
                path = _content_path(home, str(r.object_id), str(r.logical_path))
                texts[str(r.object_id)] = path.read_bytes().decode("utf-8", errors="replace")
            except (SvidokError, OSError):  # missing from the store: svidok verify says so
                continue
        if not texts:
            continue
        with home.catalog.engine.begin() as conn:
            conn.execute(insert(s.search_texts),
                         [{"object_id": k, "text": v} for k, v in texts.items()])
            sources = conn.execute(select(d.source_id).where(
                d.object_id.in_(list(texts)), d.kind == KIND)).scalars()
            search_index.refresh(conn, search_index.items_of(conn, (str(v) for v in sources)))
        loaded += len(texts)
    return loaded

