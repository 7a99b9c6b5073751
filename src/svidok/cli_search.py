"""``svidok search`` and ``svidok search-index``: full-text search over a data home's
records, and the extraction of the text it searches (thin layers over svidok.search and
svidok.derive.text)."""

from __future__ import annotations

from typing import Annotated

import typer

from svidok.cli_casework import HomeOpt, JsonOpt, _counting, _emit, _home, _operator


def search_command(
    query: Annotated[str, typer.Argument(
        help='Words (all must match), "quoted phrases", prefix*. Latin and Cyrillic '
             "spellings find each other.")] = "",
    case: Annotated[str | None, typer.Option("--case", help="Only this case.")] = None,
    kind: Annotated[str | None, typer.Option(
        "--kind", help="item, incident, person, place, source, or an item kind (photo...).")
    ] = None,
    date_from: Annotated[str | None, typer.Option(
        "--from", help="Only records whose time reaches this date or later.")] = None,
    date_to: Annotated[str | None, typer.Option(
        "--to", help="Only records whose time starts by this date.")] = None,
    near: Annotated[str | None, typer.Option(
        "--near", help="LAT,LON: only records within --radius of this point.")] = None,
    radius: Annotated[float | None, typer.Option(
        "--radius", help="Kilometres around --near.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", help="A verification status, or an incident's or person's status.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only records with this tag.")] = None,
    grade: Annotated[str | None, typer.Option(
        "--grade", help="A source's reliability (A-F) or an item's credibility (1-6).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many results.")] = 20,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the records (titles, names, descriptions, tags, file names and notes, metadata
    and the text extracted from originals), best matches first."""
    from svidok.search.service import Filters, parse_near, search

    filters = Filters(case=case, kind=kind, date_from=date_from, date_to=date_to,
                      near=parse_near(near) if near is not None else None, radius_km=radius,
                      status=status, tag=tag, grade=grade)
    from svidok.search.reads import field_blind, record_read

    with _home(home) as h:
        with h.catalog.engine.connect() as conn:
            results = search(conn, _operator(), query, filters, limit=limit)
        record_read(h, _operator(), results, "cli", field_blind(h))  # before it is shown
    found = (f"more than {results.total} found (the best of the newest {results.total} "
             "shown; add words or filters to narrow)" if results.more
             else f"{results.total} found")
    lines = [found + (f", first {len(results.hits)}"
                      if results.total > len(results.hits) else "")]
    for hit in results.hits:
        marked = "".join(f"[{seg.text}]" if seg.match else seg.text for seg in hit.snippet)
        lines.append(f"{hit.case_reference}  {hit.kind}  {hit.record}  {hit.label}")
        if marked:
            lines.append(f"    {marked}")
    _emit(results.to_json(), as_json, "\n".join(lines))


def search_index_command(
    case: Annotated[
        str | None, typer.Option("--case", help="Only the originals received for this case.")
    ] = None,
    retry: Annotated[
        bool, typer.Option("--retry", help="Try again the originals whose text failed.")
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Extract the text of stored PDFs and plain-text originals that lack it, each in an
    isolated worker, store it as a text derivative with a ledger entry (failures are
    recorded too), and index it. Exit 1 if any failed."""
    from svidok import cli
    from svidok.derive.text import make_texts

    with _home(home) as h, _counting("extracting text", as_json) as progress:
        report = make_texts(h, cli._actor(), case=case, retry=retry, progress=progress)
    failed = "".join(f"\nfailed: {obj}: {why}" for obj, why in report.failed)
    _emit(report.to_json(), as_json,
          f"{report.originals} originals with text: {report.extracted} extracted, "
          f"{report.unchanged} done before, {report.loaded} loaded into the index, "
          f"{len(report.failed)} failed" + failed)
    raise typer.Exit(1 if report.failed else 0)
