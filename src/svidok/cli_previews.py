"""``svidok previews``: make the missing previews of stored originals (thin layer)."""

from __future__ import annotations

from typing import Annotated

import typer

from svidok.cli_casework import HomeOpt, JsonOpt, _counting, _emit, _home


def previews_command(
    case: Annotated[
        str | None, typer.Option("--case", help="Only the originals received for this case.")
    ] = None,
    retry: Annotated[
        bool, typer.Option("--retry", help="Try again the originals whose previews failed.")
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make the previews (thumbnails, larger previews, video keyframes, audio waveforms) of
    stored originals that lack them, each rendered in an isolated worker and stored as a
    derivative object with a ledger entry; failures are recorded too. Exit 1 if any failed."""
    from svidok import cli
    from svidok.derive.previews import make_previews

    with _home(home) as h, _counting("previews", as_json) as progress:
        report = make_previews(h, cli._actor(), case=case, retry=retry, progress=progress)
    failed = "".join(f"\nfailed: {obj}: {why}" for obj, why in report.failed)
    _emit(report.to_json(), as_json,
          f"{report.originals} originals: {report.rendered} given new previews "
          f"({report.stored} stored), {report.unchanged} had them already or take none, "
          f"{len(report.failed)} failed" + failed)
    raise typer.Exit(1 if report.failed else 0)
