"""``svidok export`` and ``svidok verify-package``: court-ready packages (thin layer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from svidok.cli_casework import HomeOpt, JsonOpt, _emit, _home, _operator


def export_command(
    case: Annotated[str, typer.Option("--case", help="The case (reference or UUID).")],
    out: Annotated[
        Path,
        typer.Option("--out", help="A new folder for the bag, or FILE.zip for a zipped bag."),
    ],
    recipient: Annotated[
        str, typer.Option("--to", help="Who receives the package (recorded in the ledger).")
    ],
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why it is handed over (recorded in the ledger).")
    ],
    items: Annotated[
        list[str] | None,
        typer.Option("--items", "--item", help="An item's UUID (repeatable)."),
    ] = None,
    incident: Annotated[
        str | None, typer.Option("--incident", help="Only the items linked to this incident.")
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", help="Only items whose title contains this text.")
    ] = None,
    include_protected: Annotated[
        bool,
        typer.Option(
            "--include-protected",
            help="Put protected values (witness identities, contacts) in clear in the package.",
        ),
    ] = False,
    derivatives: Annotated[
        list[str] | None,
        typer.Option("--derivatives", help="Also the items' derivatives of this kind "
                     "(thumbnail, preview, keyframes, waveform; all: every kind), marked as "
                     "such (repeatable)."),
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a case's items as a BagIt bag that the receiver checks offline (originals,
    metadata, ledger entries with proofs, checkpoint, key, README, verification script).
    With no --items/--incident/--query: every item of the case. The export is recorded in
    the ledger (who, what, to whom, why) before the package is written."""
    from svidok import cli
    from svidok.cases.service import open_casework
    from svidok.export.package import Selection, export_case

    selection = Selection(items=tuple(items or ()), incident=incident, query=query)
    with _home(home) as h:
        work = open_casework(h)
        with cli.byte_progress("exporting") as advance:
            result = export_case(
                h, work, _operator(), case, selection, out, recipient=recipient,
                purpose=purpose, include_protected=include_protected,
                derivatives=tuple(derivatives or ()), progress=advance,
            )
    _emit(
        result.to_json(),
        as_json,
        f"Exported {result.items} items and {result.records} linked records of case "
        f"{result.case} to {result.path}\n{result.files} files, {result.bytes} bytes; "
        f"{result.entries} ledger entries with proofs against checkpoint "
        f"{result.checkpoint_size}; recorded as ledger entry {result.entry}.\n"
        f"Check it with: svidok verify-package {result.path}",
    )


def verify_package_command(
    package: Annotated[Path, typer.Argument(help="The bag's folder, or a zip of it.")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="The log's published key (vkey text or a file holding it)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a package completely and offline: the bag, the key and checkpoint, every
    entry's proof, the export record, every original and metadata file. Exit 0 intact,
    1 problems found, 2 cannot run."""
    from svidok import cli
    from svidok.export import verify_package as vp

    if not package.exists():
        cli._fail(f"{package} does not exist")
    key_text = key
    if key is not None and Path(key).is_file():
        key_text = Path(key).read_text(encoding="utf-8")
    report = vp.verify(package, key_text)
    if as_json:
        cli._print_json(
            {"ok": report.ok, "problems": report.problems, "notes": report.notes,
             "facts": report.facts}
        )
    else:
        from svidok.textsafe import escape_text

        for line in vp.report_lines(report):
            cli.out.print(escape_text(line), markup=False)
    raise typer.Exit(0 if report.ok else 1)


def export_table_command(
    case: Annotated[str, typer.Option("--case", help="The case (reference or UUID).")],
    kind: Annotated[str, typer.Option("--kind", help="items or incidents.")],
    out: Annotated[
        Path, typer.Option("--out", help="FILE.csv or FILE.geojson (the format by its ending).")
    ],
    home: HomeOpt = None,
) -> None:
    """Write a case's items or incidents as CSV (spreadsheets) or GeoJSON (QGIS): a working
    table of metadata, not a court package."""
    from svidok import cli
    from svidok.cases.service import open_casework
    from svidok.export.tables import table

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "geojson") or kind not in ("items", "incidents"):
        cli._fail("give --kind items|incidents and an --out ending in .csv or .geojson")
    if out.exists():
        cli._fail(f"{out} exists already")
    with _home(home) as h:
        text = table(open_casework(h), _operator(), case, kind, fmt)  # type: ignore[arg-type]
    try:
        out.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        cli._fail(f"cannot write {out}: {exc.strerror or exc}")
    cli.out.print(f"Wrote {out}", markup=False)
