"""``svidok import folder|people|package``: bring existing collections in (thin layer over
svidok.imports). Bad rows or files refuse the whole import, each reported with where and
why; a second run of the same import adds nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from svidok.cli_casework import HomeOpt, JsonOpt, _home, _operator

if TYPE_CHECKING:
    from collections.abc import Callable

    from svidok.imports.common import ImportReport

import_app = typer.Typer(
    no_args_is_help=True,
    help="Import a folder with sidecar metadata, a CSV list of people, or a Svidok package.",
)
CaseOpt = Annotated[str, typer.Option("--case", help="The case (reference or UUID).")]


def _run(make: Callable[[], ImportReport], as_json: bool) -> None:
    """Run an import; report it; exit 0 done, 1 some files not preserved, 2 refused."""
    from svidok import cli
    from svidok.imports.common import ImportRefused
    from svidok.textsafe import escape_text

    try:
        report = make()
    except ImportRefused as exc:
        if as_json:
            cli._print_json({"ok": False, "imported": False, "problems": [
                {"where": p.where, "reason": p.reason} for p in exc.problems]})
        else:
            for p in exc.problems:
                cli.err.print(escape_text(f"problem: {p}"), markup=False)
            cli.err.print(f"svidok: nothing was imported ({len(exc.problems)} problems)",
                          markup=False)
        raise typer.Exit(2) from None
    if as_json:
        cli._print_json(report.to_json())
    else:
        for p in report.problems:
            cli.err.print(escape_text(f"problem: {p}"), markup=False)
        for n in report.notes:
            cli.out.print(escape_text(f"note: {n}"), markup=False)
        cli.out.print(escape_text(report.summary()), markup=False)
    raise typer.Exit(0 if report.ok else 1)


@import_app.command("folder")
def import_folder_command(
    folder: Annotated[Path, typer.Argument(help="The folder of evidence files and sidecars.")],
    case: CaseOpt,
    collector: Annotated[str, typer.Option("--collector", help="Who collected the files.")],
    provenance: Annotated[
        str | None, typer.Option("--source", help="Where the files came from.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note on the acquisition.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evidence files with sidecars (FILE.json or FILE.csv beside each FILE) as items."""
    from svidok.cases.service import open_casework
    from svidok.imports.folder import FolderOptions, import_folder

    with _home(home) as h:
        work = open_casework(h)
        options = FolderOptions(collector=collector, provenance=provenance, note=note)
        _run(lambda: import_folder(h, work, _operator(), case, folder, options), as_json)


@import_app.command("people")
def import_people_command(
    file: Annotated[Path, typer.Argument(help="The CSV file (a header row, one person a row).")],
    case: CaseOpt,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=FIELD (repeatable): name (several columns join), "
                     "name_latin, pseudonym, sex, age, birth_date, status, description, tags, "
                     "legal_name, contact, address, identity_document, protected_notes, id, "
                     "ignore. Columns named like a field need none."),
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="The file's encoding.")] = "utf-8-sig",
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="The separator (default: guessed).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag for every person (repeatable).")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A CSV list of people (e.g. the victims one source names) as person records."""
    from svidok.cases.service import open_casework
    from svidok.imports.people import PeopleOptions, import_people, parse_mapping

    def make() -> ImportReport:
        options = PeopleOptions(mapping=parse_mapping(mapping or []), encoding=encoding,
                                delimiter=delimiter, tags=tuple(tag or ()))
        return import_people(work, _operator(), case, file, options)

    with _home(home) as h:
        work = open_casework(h)
        _run(make, as_json)


@import_app.command("package")
def import_package_command(
    package: Annotated[Path, typer.Argument(help="The package's folder or zip.")],
    case: CaseOpt,
    collector: Annotated[str, typer.Option("--collector", help="Who received the package.")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="The sending archive's published key (text or a file)."),
    ] = None,
    accept_packaged_key: Annotated[
        bool,
        typer.Option("--accept-packaged-key",
                     help="Trust the key the package carries (when none was published)."),
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A package exported by another Svidok: checked whole first, then its originals and
    records (items, incidents, people, places, sources, links) made again in the case."""
    from svidok.cases.service import open_casework
    from svidok.imports.package import import_package

    key_text = key
    if key is not None and Path(key).is_file():
        key_text = Path(key).read_text(encoding="utf-8")
    with _home(home) as h:
        work = open_casework(h)
        _run(lambda: import_package(h, work, _operator(), case, package, key=key_text,
                                    collector=collector,
                                    accept_packaged_key=accept_packaged_key), as_json)
