"""``svidok timestamp``: ask the configured time-stamping authorities for every pending
RFC 3161 timestamp (thin layer over :mod:`svidok.timestamps`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from svidok.cli_casework import HomeOpt, JsonOpt, _emit, _home

if TYPE_CHECKING:
    from svidok.timestamps import Outcome


def timestamp_command(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Request RFC 3161 timestamps for every checkpoint that lacks one from a configured
    TSA (newest first; a TSA that fails is not asked again in this run). Exit 0 when none
    is pending any more, 1 when some still are."""
    import typer
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from svidok import cli

    with _home(home) as h:
        if not h.config.tsas:
            cli._fail("no time-stamping authority is configured ([[timestamping.tsa]] in "
                      "svidok.toml, see docs/configuration.md)")
        stamps = h.timestamps()
        total = len(stamps.pending())
        if cli._show_progress() and not as_json and total:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          console=cli.err, transient=True) as bar:
                task = bar.add_task("requesting timestamps", total=total)
                outcomes = stamps.request(progress=lambda _o: bar.advance(task))
        else:
            outcomes = stamps.request()
        left = len(stamps.pending())
    lines = _lines(outcomes)
    stamped = sum(o.status == "stamped" for o in outcomes)
    lines.append(f"{stamped} timestamps added; {left} pending"
                 + ("" if left else ": every checkpoint is time-stamped by every TSA"))
    _emit({"outcomes": [o.to_json() for o in outcomes], "stamped": stamped, "pending": left},
          as_json, "\n".join(lines))
    raise typer.Exit(1 if left else 0)


SHOWN = 20  # stamped checkpoints listed one per line; the rest are counted


def _lines(outcomes: list[Outcome]) -> list[str]:
    """One line per stamped checkpoint (the newest :data:`SHOWN`), and one per TSA and reason
    for those still pending: a TSA that was unreachable for a week leaves thousands."""
    stamped = [o for o in outcomes if o.status == "stamped"]
    lines = [f"checkpoint {o.size}: {o.tsa}: time-stamped at {o.time}" for o in stamped[:SHOWN]]
    if len(stamped) > SHOWN:
        lines.append(f"... and {len(stamped) - SHOWN} more checkpoints time-stamped")
    pending: dict[tuple[str, str], list[int]] = {}
    for o in outcomes:
        if o.status != "stamped":
            pending.setdefault((o.tsa, o.message), []).append(o.size)
    for (tsa, message), sizes in pending.items():
        which = (f"checkpoint {sizes[0]}" if len(sizes) == 1 else
                 f"{len(sizes)} checkpoints (sizes {min(sizes)} to {max(sizes)})")
        lines.append(f"{which}: {tsa}: still pending ({message})")
    return lines
