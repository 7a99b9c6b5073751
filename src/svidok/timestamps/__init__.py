"""Trusted time: RFC 3161 time-stamps over the ledger's checkpoints (docs/formats.md,
"Trusted time").

Each configured time-stamping authority (``[[timestamping.tsa]]`` in svidok.toml) is asked
to time-stamp the SHA-256 of the exact bytes of every signed checkpoint note (signature
lines included): its token proves that the checkpoint, and so every entry it covers,
existed no later than the token's time. The DER ``TimeStampResp`` each TSA sent is kept,
as received, in ``ledger/timestamps/<20-digit tree size>.<tsa name>.tsr``. Tokens are
evidence by themselves (signed by the TSA over the checkpoint), so they are not ledger
entries: recording one would sign a new checkpoint that again lacks a token.

A checkpoint without a token from a configured TSA is *pending*: the home asks for it
after every command that signs (``Home.writing``) and ``svidok timestamp`` asks for all of
them; a TSA that cannot be reached leaves them pending, never failing the command.

Errors::

    SvidokError
    └── TimestampError            a TSA cannot be used, or a token does not check out
        └── TsaUnreachable        no answer in time, or an HTTP error: try again later
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from svidok._fs import atomic_write, fsync_dir, is_unfinished_write
from svidok.config import Config
from svidok.timestamps._tsa import (
    Authority,
    Stamp,
    TimestampError,
    TsaUnreachable,
    check_imprint,
    parse,
)

__all__ = [
    "Authority",
    "Outcome",
    "Stamp",
    "TimestampCheck",
    "TimestampError",
    "Timestamps",
    "TsaUnreachable",
    "ranges",
]

STAMP_DIR = "timestamps"
_TOKEN_NAME = re.compile(r"(\d{20})\.([a-z0-9][a-z0-9_-]{0,39})\.tsr")
_MAX_NOTE = 1 << 20


@dataclass(frozen=True)
class Outcome:
    """What became of one checkpoint at one TSA."""

    size: int
    tsa: str
    status: Literal["stamped", "failed", "skipped"]  # failed, skipped: still pending
    message: str = ""
    time: str | None = None  # the token's time (RFC 3339), when stamped

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class TimestampCheck:
    """What ``svidok verify`` found about the stored tokens."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stamped: dict[int, list[Stamp]] = field(default_factory=dict)  # tree size -> valid ones


class Timestamps:
    """The tokens of one data home's ledger and the TSAs that make them."""

    def __init__(self, ledger_dir: Path, home: Path, config: Config) -> None:
        self.ledger_dir = ledger_dir
        self.dir = ledger_dir / STAMP_DIR
        self.authorities = [Authority(t, home, config.timestamp_timeout) for t in config.tsas]

    # ------------------------------------------------------------------ reading
    def token_path(self, size: int, tsa: str) -> Path:
        return self.dir / f"{size:020d}.{tsa}.tsr"

    def checkpoint_sizes(self) -> list[int]:
        """Tree sizes of the stored checkpoints (``checkpoints/<size>.note``), ascending."""
        sizes = []
        for path in (self.ledger_dir / "checkpoints").glob("*.note"):
            stem = path.name[:-5]
            if stem.isdigit() and len(stem) == 20 and not is_unfinished_write(path):
                sizes.append(int(stem))
        return sorted(sizes)

    def note_bytes(self, size: int) -> bytes:
        """The exact bytes of the stored checkpoint of that size (what a token is over)."""
        with (self.ledger_dir / "checkpoints" / f"{size:020d}.note").open("rb") as fh:
            return fh.read(_MAX_NOTE)

    def pending(self) -> list[tuple[int, Authority]]:
        """Checkpoints without a token file from a configured TSA, newest first."""
        sizes = self.checkpoint_sizes()
        tokens = {p.name for p in self.dir.iterdir()} if self.dir.is_dir() else set()
        return [
            (size, tsa)
            for size in reversed(sizes)
            for tsa in self.authorities
            if self.token_path(size, tsa.name).name not in tokens
        ]

    # ---------------------------------------------------------------- requesting
    def request(
        self,
        *,
        limit: int | None = None,
        skip: Iterable[str] = (),
        progress: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Ask for the pending tokens, newest checkpoint first, at most ``limit`` per TSA.

        A TSA that fails (unreachable, or a bad answer) is not asked again in this call;
        its checkpoints stay pending. Never raises for a TSA's failure."""
        skipped = set(skip)
        asked: dict[str, int] = {}
        outcomes: list[Outcome] = []
        for size, tsa in self.pending():
            if tsa.name in skipped or (limit is not None and asked.get(tsa.name, 0) >= limit):
                outcome = Outcome(size, tsa.name, "skipped", "not asked in this run")
            else:
                asked[tsa.name] = asked.get(tsa.name, 0) + 1
                outcome = self._request_one(size, tsa)
                if outcome.status == "failed":
                    skipped.add(tsa.name)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
        return outcomes

    def _request_one(self, size: int, tsa: Authority) -> Outcome:
        try:
            note = self.note_bytes(size)
            stamp = tsa.request(note)
            if not self.dir.is_dir():
                self.dir.mkdir(exist_ok=True)
                fsync_dir(self.ledger_dir)
            atomic_write(self.token_path(size, tsa.name), stamp.der)
        except (TimestampError, OSError) as exc:
            return Outcome(size, tsa.name, "failed", _one_line(exc))
        return Outcome(size, tsa.name, "stamped", time=_rfc3339(stamp))

    # ------------------------------------------------------------------ checking
    def check(self, sizes: Iterable[int]) -> TimestampCheck:
        """Check every stored token; list the checkpoints (of ``sizes``) lacking one."""
        result = TimestampCheck()
        known = {a.name: a for a in self.authorities}
        unusable: set[str] = set()
        files = sorted(self.dir.iterdir()) if self.dir.is_dir() else []
        for path in files:
            if is_unfinished_write(path):
                result.notes.append(f"{path.name} in ledger/timestamps is an unfinished write")
                continue
            m = _TOKEN_NAME.fullmatch(path.name)
            if m is None or not path.is_file():
                result.notes.append(f"ledger/timestamps/{path.name} is not a token file")
                continue
            size, name = int(m.group(1)), m.group(2)
            what = f"token {path.name}"
            try:
                der = path.read_bytes()[: (256 << 10) + 1]
                note = self.note_bytes(size)
            except OSError as exc:
                result.problems.append(f"cannot read {what} or its checkpoint: {exc}")
                continue
            tsa = known.get(name)
            try:
                if tsa is None:
                    check_imprint(parse(der, what), note, what)
                    result.notes.append(
                        f"{what} is from TSA {name!r}, which is not configured: its imprint "
                        "matches, its signature was not checked"
                    )
                    continue
                if name in unusable:
                    continue
                try:
                    tsa.roots  # noqa: B018 - reported once, not per token
                except TimestampError as exc:
                    unusable.add(name)
                    result.problems.append(f"cannot check tokens: {exc}")
                    continue
                result.stamped.setdefault(size, []).append(tsa.check(der, note, what))
            except TimestampError as exc:
                result.problems.append(str(exc))
        for tsa in self.authorities:
            lacking = [
                s for s in sizes if all(x.tsa != tsa.name for x in result.stamped.get(s, []))
            ]
            if lacking:
                result.notes.append(
                    f"{len(lacking)} checkpoints lack a timestamp from TSA {tsa.name!r} "
                    f"(tree sizes {ranges(lacking)}; `svidok timestamp` requests them)"
                )
        return result


def ranges(values: list[int], most: int = 12) -> str:
    """``1, 4-7, 9`` (at most ``most`` parts, then how many more)."""
    parts: list[str] = []
    start = prev = values[0] if values else 0
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    if len(parts) > most:
        return ", ".join(parts[:most]) + f" and {len(parts) - most} more"
    return ", ".join(parts)


def _rfc3339(stamp: Stamp) -> str:
    return stamp.time.isoformat().replace("+00:00", "Z")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
