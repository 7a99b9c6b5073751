"""What every import shares: problems reported with where and why, refusal of the whole
import when any row or file is bad, reading CSV text safely, and the import report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from svidok.errors import SvidokError

MAX_CSV_BYTES = 256 << 20
MAX_FIELD = 100_000


@dataclass(frozen=True)
class Problem:
    """One bad row or file: where (``victims.csv line 14``) and why, in plain words."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class ImportRefused(SvidokError):
    """Bad rows or files: nothing was imported (each problem says where and why)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(
            f"nothing was imported: {len(problems)} problems: {shown}{more}"
        )


@dataclass
class ImportReport:
    """What an import did. ``created`` and ``unchanged`` count records; ``problems`` are
    files that could not be preserved after every check had passed."""

    kind: str
    case: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # nothing wrong, worth knowing

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "case": self.case,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "records": self.created + self.updated + self.unchanged,
            "files": self.files,
            "problems": [{"where": p.where, "reason": p.reason} for p in self.problems],
            "notes": [{"where": p.where, "reason": p.reason} for p in self.notes],
            "ok": self.ok,
        }

    def summary(self) -> str:
        files = ", ".join(f"{n} {k}" for k, n in self.files.items() if n)
        text = (
            f"{self.kind} into case {self.case}: {len(self.created)} records created, "
            f"{len(self.updated)} updated, {len(self.unchanged)} already imported"
        )
        return text + (f"; files: {files}" if files else "")


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file (1: the header)
    values: dict[str, str]  # by column name; missing trailing values are empty
    extra: int  # values beyond the header's columns (a problem for the caller to report)


def read_csv(
    path: Path, encoding: str = "utf-8-sig", delimiter: str | None = None
) -> tuple[list[str], Iterator[Row]]:
    """The header and the rows of a CSV file (RFC 4180; the delimiter is guessed among
    ``,`` ``;`` and tab unless given). Raises ImportRefused for what cannot be read."""
    where = path.name
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ImportRefused([Problem(where, f"larger than {MAX_CSV_BYTES >> 20} MiB")])
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRefused([Problem(where, f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise ImportRefused(
            [Problem(where, f"not {encoding} text (give --encoding, e.g. cp1251)")]
        ) from None
    except LookupError:
        raise ImportRefused([Problem(where, f"unknown encoding {encoding!r}")]) from None
    if "\x00" in text:
        raise ImportRefused([Problem(where, "holds NUL characters: not a CSV text file")])
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = max([",", ";", "\t"], key=first.count)
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportRefused([Problem(where, "is empty")]) from None
    except csv.Error as exc:
        raise ImportRefused([Problem(f"{where} line 1", str(exc))]) from None
    if len(set(header)) != len(header) or "" in header:
        raise ImportRefused([Problem(f"{where} line 1", "the header has empty or repeated names")])

    def rows() -> Iterator[Row]:
        start = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                raise ImportRefused([Problem(f"{where} line {line}", str(exc))]) from None
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue  # a blank line
            padded = values + [""] * (len(header) - len(values))
            yield Row(line, dict(zip(header, padded, strict=False)), len(values) - len(header))

    return header, rows()
