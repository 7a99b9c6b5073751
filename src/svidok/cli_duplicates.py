"""``svidok duplicates``: perceptual hashes of stored originals and the near-duplicate
pairs of a case, confirmed or rejected (thin layer over :mod:`svidok.analysis`)."""

from __future__ import annotations

from typing import Annotated

import typer

from svidok.cli_casework import HomeOpt, JsonOpt, _counting, _emit, _home, _operator

duplicates_app = typer.Typer(
    no_args_is_help=True, help="Near-duplicate pictures and videos (PDQ, vPDQ).")

CaseOpt = Annotated[str, typer.Option("--case", help="The case (reference or UUID).")]
NoteOpt = Annotated[str, typer.Option("--note", help="Why (kept in the ledger).")]


@duplicates_app.command("hash")
def hash_command(
    case: Annotated[
        str | None, typer.Option("--case", help="Only the originals received for this case.")
    ] = None,
    retry: Annotated[
        bool, typer.Option("--retry", help="Try again the originals that could not be hashed.")
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hash the pictures (PDQ) and videos (vPDQ) received that have no hash yet, each
    read in an isolated worker, one ledger entry per original; failures are recorded too.
    Exit 1 if any failed."""
    from svidok import cli
    from svidok.analysis.hashing import compute_hashes

    with _home(home) as h, _counting("hashing", as_json) as progress:
        report = compute_hashes(h, cli._actor(), case=case, retry=retry, progress=progress)
    failed = "".join(f"\nfailed: {obj}: {why}" for obj, why in report.failed)
    _emit(report.to_json(), as_json,
          f"{report.originals} originals: {report.hashed} hashed, {report.unchanged} had a "
          f"hash already or take none, {len(report.failed)} failed" + failed)
    raise typer.Exit(1 if report.failed else 0)


@duplicates_app.command("list")
def list_command(case: CaseOpt, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The pairs of items of the case that look alike (PDQ distance or vPDQ share of
    frames), and those decided, with their status."""
    from svidok.analysis.duplicates import Duplicates
    from svidok.cases.service import open_casework

    with _home(home) as h:
        pairs = Duplicates(open_casework(h)).for_case(_operator(), case)
    lines = [f"{p.status:<9} {_measure(p.distance, p.percent):>10}  {p.a} {p.a_label!r}  "
             f"{p.b} {p.b_label!r}" + (f"  note: {p.note}" if p.note else "") for p in pairs]
    _emit([p.to_json() for p in pairs], as_json, "\n".join(lines) or "no possible duplicates")


def _measure(distance: int | None, percent: float | None) -> str:
    if distance is not None:
        return f"d={distance}"
    return f"{percent:g}%" if percent is not None else "-"


def _decide(decision: str, a: str, b: str, case: str, note: str, home: HomeOpt,
            as_json: bool) -> None:
    from svidok.analysis.duplicates import Duplicates
    from svidok.cases.service import open_casework

    with _home(home) as h:
        pair = Duplicates(open_casework(h)).decide(_operator(), case, a, b, decision, note)
    _emit(pair.to_json(), as_json, f"{pair.a} and {pair.b}: {pair.status}")


def _decision_command(decision: str, doc: str) -> None:
    def command(
        a: Annotated[str, typer.Argument(help="One item (UUID).")],
        b: Annotated[str, typer.Argument(help="The other item (UUID).")],
        case: CaseOpt,
        note: NoteOpt = "",
        home: HomeOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        _decide(decision, a, b, case, note, home, as_json)

    command.__doc__ = doc
    duplicates_app.command("confirm" if decision == "confirmed" else "reject")(command)


_decision_command("confirmed", "Record that two items of the case are near-duplicates (a "
                  "ledger entry; a later decision on the pair replaces it).")
_decision_command("rejected", "Record that two items of the case are not near-duplicates (a "
                  "ledger entry; a later decision on the pair replaces it).")
