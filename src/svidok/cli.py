"""The ``svidok`` command: a thin layer over the Python API (typer + rich)."""

from __future__ import annotations

import atexit
import contextlib
import getpass
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from svidok import __version__
from svidok.errors import SvidokError
from svidok.textsafe import escape_bytes, escape_text

if TYPE_CHECKING:  # the heavy modules load only when a command needs them
    from collections.abc import Sequence

    from svidok.cases.access import Actor
    from svidok.home import Home
    from svidok.intake.ingest import FileOutcome

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Svidok: an evidence locker with a tamper-evident custody ledger.",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        show_default=False,
        help="The data home (default: $SVIDOK_HOME, else ./svidok-data).",
    ),
]
_global_home: list[Path] = []  # --home given before the command name
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _print_json(data: object) -> None:
    """Machine output: plain JSON on stdout (no styling, no wrapping)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"svidok: {message}", markup=False)
    raise typer.Exit(code)


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _home_path(home: Path | None) -> Path:
    """The command's --home, else the global --home, else $SVIDOK_HOME, else ./svidok-data."""
    if home is None and _global_home:
        home = _global_home[-1]
    from svidok.home import resolve_home

    return resolve_home(home)


def _open(home: Path | None, *, catalog_in_background: bool = False) -> Home:
    from svidok.home import Home

    return Home.open(_home_path(home), catalog_in_background=catalog_in_background)


def _show_progress() -> bool:
    return err.is_terminal and not os.environ.get("CI")


@contextmanager
def byte_progress(description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar of bytes (amount and speed) on a terminal; the callback that advances
    it by a number of bytes (a no-op when no bar is shown)."""
    if not _show_progress():
        yield lambda _n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda n: bar.advance(task, n)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    home: HomeOpt = None,
) -> None:
    _global_home.clear()
    if home is not None:
        _global_home.append(home)
    if version:
        out.print(f"svidok {__version__}")
        raise typer.Exit(0)


@app.command()
def init(
    home: HomeOpt = None,
    origin: Annotated[
        str | None,
        typer.Option(
            help="The log's name, first line of every checkpoint (default: svidok.local/<id>)."
        ),
    ] = None,
    catalog_url: Annotated[
        str | None,
        typer.Option(
            "--catalog-url",
            show_default=False,
            help="The catalog database, e.g. postgresql+psycopg://user@host/db (an empty "
            "database); default: $SVIDOK_CATALOG_URL, else catalog.sqlite in the home.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a data home: OCFL store, ledger, catalog, signing key and settings."""
    from svidok.home import Home as _Home

    result = _Home.init(_home_path(home), origin=origin, actor=_actor(), catalog_url=catalog_url)
    if json_out:
        _print_json(
            {
                "home": str(result.home),
                "origin": result.origin,
                "public_key": result.vkey,
                "key_id": result.key_id,
            }
        )
        return
    out.print(f"Created data home {result.home}", markup=False)
    out.print(f"Log origin: {result.origin}", markup=False)
    out.print(f"Public key (publish it; verifiers need it): {result.vkey}", markup=False)
    out.print(f"Key ID: {result.key_id}", markup=False)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to preserve.")],
    case: Annotated[str, typer.Option(help="The case the evidence belongs to.")],
    collector: Annotated[str, typer.Option(help="Who collected it.")],
    source: Annotated[
        str | None, typer.Option(help="Where it came from (recorded in the ledger in clear).")
    ] = None,
    note: Annotated[
        str | None,
        typer.Option(help="A note on this acquisition (recorded in the ledger in clear)."),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Preserve files and folders (recursively) as evidence; record each acquisition."""
    from svidok.intake.ingest import IngestOptions, summarize
    from svidok.intake.ingest import ingest as run_ingest

    options = IngestOptions(case=case, collector=collector, source=source, note=note)
    raw_paths = [os.fsencode(p) for p in paths]
    with _open(home, catalog_in_background=True) as h:  # files are copied meanwhile
        if _show_progress() and not json_out:
            with _IngestBar() as bar:
                report = run_ingest(h, raw_paths, options, bar)
        else:
            report = run_ingest(h, raw_paths, options)
        items = _items_for_case(h, case, report.outcomes)
    counts = summarize(report)
    if json_out:
        _print_json(
            {
                "ok": report.ok,
                "summary": counts,
                "bytes_preserved": report.bytes_preserved,
                "checkpoint_size": report.checkpoint_size,
                "files": [o.to_json() for o in report.outcomes],
            }
        )
    else:
        table = Table(title="Ingest", show_lines=False)
        for col in ("status", "file", "size", "object", "note"):
            table.add_column(col, overflow="fold")
        for o in report.outcomes:
            table.add_row(  # Text cells: names are never read as rich markup
                Text(o.status),
                Text(o.display),
                Text("" if o.size is None else f"{o.size:,}"),
                Text((o.object_id or "")[:19]),
                Text(escape_text(o.reason or (o.media_type or ""))),
            )
        out.print(table)
        out.print(
            ", ".join(f"{v} {k}" for k, v in counts.items())
            + f"; ledger signed at {report.checkpoint_size} entries",
            markup=False,
        )
        if items is not None:
            out.print(f"{len(items)} new items in case {escape_text(case)}", markup=False)
    raise typer.Exit(0 if report.ok else 1)


def _items_for_case(h: Home, case: str, outcomes: Sequence[FileOutcome]) -> list[str] | None:
    """When ``case`` names an existing case (reference or UUID), the files preserved for it
    become its items; else None (the acquisitions still name the case)."""
    from svidok.catalog.casework import find_case_id

    with h.catalog.engine.connect() as conn:
        case_id = find_case_id(conn, case)
    if case_id is None:  # no such case: nothing more to load (start-up cost of every ingest)
        return None
    from svidok.cases.service import open_casework

    received = [
        (o.object_id, escape_bytes(o.path.rpartition(b"/")[2]))
        for o in outcomes
        if o.object_id is not None and o.status in ("preserved", "already-preserved")
    ]
    return open_casework(h).add_intake_items(_actor_operator(), case_id, received)


def _actor_operator() -> Actor:
    from svidok.cases.access import Actor as _Actor

    return _Actor.operator(_actor())


class _IngestBar(Progress):
    def __init__(self) -> None:
        super().__init__(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        self._files: TaskID | None = None
        self._bytes: TaskID | None = None

    def on_planned(self, files: int, total_bytes: int) -> None:
        self._files = self.add_task("files", total=files)
        self._bytes = self.add_task("bytes", total=total_bytes)

    def on_bytes(self, nbytes: int) -> None:
        if self._bytes is not None:
            self.advance(self._bytes, nbytes)

    def on_outcome(self, outcome: FileOutcome) -> None:
        if self._files is not None and outcome.size is not None:
            self.advance(self._files, 1)


@app.command()
def verify(
    home: HomeOpt = None,
    against: Annotated[
        list[Path] | None,
        typer.Option("--against", help="A checkpoint published earlier (repeatable)."),
    ] = None,
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="Trusted public key (vkey text or a file holding it; repeatable). "
            "Default: the home's keys/ledger.pub.",
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Check sizes and inventories, do not re-hash content.")
    ] = False,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record the run in the ledger.")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Check the whole archive without trusting the catalog. Exit 0 intact, 1 problems."""
    from svidok.ledger.entries import Draft
    from svidok.verify import verify as run_verify

    trusted = [_load_vkey(k) for k in key or []]
    with _open(home) as h:
        if _show_progress() and not json_out:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as bar:
                tasks: dict[str, TaskID] = {}

                def step(stage: str, done: int, total: int | None) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(f"checking {stage}", total=total)
                    bar.update(tasks[stage], completed=done, total=total)

                report = run_verify(
                    h, against=against or [], quick=quick, trusted=trusted, progress=step
                )
        else:
            report = run_verify(h, against=against or [], quick=quick, trusted=trusted)
        recorded: int | None = None
        if record and h.signer is not None and os.access(h.ledger.dir, os.W_OK):
            try:
                with h.writing():
                    entries = h.commit(
                        [
                            Draft(
                                "verification",
                                _actor(),
                                {
                                    "result": "intact" if report.ok else "problems",
                                    "problems": len(report.problems),
                                    "quick": quick,
                                    "objects": report.objects,
                                    "tree_size": report.entries,
                                    "external_checkpoints": report.external_checked,
                                    "findings": [str(f) for f in report.findings[:100]],
                                },
                            )
                        ]
                    )
                recorded = entries[0].index
            except SvidokError as exc:
                report.note("ledger", f"this run could not be recorded in the ledger: {exc}")
    if json_out:
        _print_json(
            {
                "ok": report.ok,
                "objects": report.objects,
                "bytes_checked": report.bytes_checked,
                "entries": report.entries,
                "checkpoint_size": report.checkpoint_size,
                "external_checkpoints": report.external_checked,
                "recorded_as_entry": recorded,
                "findings": [
                    {"severity": f.severity, "area": f.area, "message": f.message}
                    for f in report.findings
                ],
            }
        )
    else:
        for f in report.findings:
            (out if f.severity == "note" else err).print(str(f), markup=False)
        verdict = "INTACT" if report.ok else f"PROBLEMS FOUND ({len(report.problems)})"
        out.print(
            f"{verdict}: {report.objects} objects, {report.bytes_checked:,} bytes hashed, "
            f"{report.entries} ledger entries, latest checkpoint at "
            f"{report.checkpoint_size}, {report.external_checked} external "
            "checkpoints checked",
            markup=False,
        )
    raise typer.Exit(0 if report.ok else 1)


def _load_vkey(value: str) -> Any:
    from svidok.ledger.note import Verifier

    path = Path(value)
    text = value
    if "+" not in value or path.exists():
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            _fail(f"cannot read the key {value}: {exc.strerror or exc}")
    return Verifier.from_vkey(text)


@app.command()
def checkpoint(
    home: HomeOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to this file.")
    ] = None,
) -> None:
    """Print the latest signed checkpoint, for publishing."""
    with _open(home) as h:
        latest = h.latest_checkpoint()
        if latest is None:
            _fail("the ledger has no signed checkpoint yet")
    _write_text(latest.note, output)


@app.command()
def receipt(
    target: Annotated[
        str,
        typer.Argument(
            help="An object id (sha256:<hex>), its hex digest, or a ledger entry number."
        ),
    ],
    home: HomeOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to this file.")
    ] = None,
) -> None:
    """Write a C2SP tlog-proof receipt: an entry, its inclusion proof and the checkpoint."""
    from svidok.receipts import receipt_for

    with _open(home) as h:
        rec = receipt_for(h, target)
    _write_text(rec.to_text(), output)


@app.command("verify-receipt")
def verify_receipt(
    file: Annotated[Path, typer.Argument(help="The receipt file.")],
    key: Annotated[
        str, typer.Option("--key", help="The log's public key (vkey text or a file holding it).")
    ],
    content: Annotated[
        Path | None,
        typer.Option("--file", help="Also check that this file is the object the entry names."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a receipt offline: signature, inclusion proof, and optionally the file itself."""
    from svidok.receipts import check_receipt

    verifier = _load_vkey(key)
    try:
        text = file.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    digest = _sha256_file(content) if content is not None else None
    result = check_receipt(text, verifier, content_sha256=digest)
    if json_out:
        _print_json(result.to_json())
    else:
        out.print(result.summary(), markup=False)
    raise typer.Exit(0 if result.ok else 1)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")
    return h.hexdigest()


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")


from svidok import cli_casework  # noqa: E402  (light: typer only; its commands import lazily)

app.add_typer(cli_casework.user_app, name="user")
app.add_typer(cli_casework.case_app, name="case")
app.add_typer(cli_casework.token_app, name="token")
app.command("rebuild")(cli_casework.rebuild_command)
app.command("demo")(cli_casework.demo_command)

from svidok import cli_serve  # noqa: E402  (light: typer only; uvicorn/fastapi imported lazily)

app.command("serve")(cli_serve.serve)

from svidok import cli_export  # noqa: E402  (light: typer only; the exporter loads lazily)

app.command("export")(cli_export.export_command)
app.command("verify-package")(cli_export.verify_package_command)
app.command("export-table")(cli_export.export_table_command)

from svidok import cli_timestamp  # noqa: E402  (light: typer only)

app.command("timestamp")(cli_timestamp.timestamp_command)

from svidok import cli_previews  # noqa: E402  (light: typer only; renderers load lazily)

app.command("previews")(cli_previews.previews_command)

from svidok import cli_duplicates  # noqa: E402  (light: typer only; hashing loads lazily)

app.add_typer(cli_duplicates.duplicates_app, name="duplicates")

from svidok import cli_import  # noqa: E402  (light: typer only; the importers load lazily)

app.add_typer(cli_import.import_app, name="import")

from svidok import cli_capture  # noqa: E402  (light: typer only; the browser loads lazily)

app.command("capture")(cli_capture.capture_command)

from svidok import cli_search  # noqa: E402  (light: typer only; search loads lazily)

app.command("search")(cli_search.search_command)
app.command("search-index")(cli_search.search_index_command)


def main() -> None:
    """Console entry point: errors become one line and an exit status, never a traceback."""
    try:
        try:
            app()
        except SvidokError as exc:
            err.print(f"svidok: {exc}", markup=False)
            sys.exit(2)
        except KeyboardInterrupt:
            err.print("svidok: interrupted", markup=False)
            sys.exit(130)
        except Exception as exc:  # the last line of defence: never a stack trace
            if os.environ.get("SVIDOK_DEBUG"):
                raise
            err.print(f"svidok: internal error ({type(exc).__name__}): {exc}", markup=False)
            sys.exit(2)
    except SystemExit as done:
        _leave(done)
        raise


def _leave(done: SystemExit) -> None:
    """End the process with ``done``'s status without the interpreter's teardown.

    After a command everything is closed and durable; the teardown would only collect and
    free every loaded module's objects, about 0.1 s once the catalog is loaded. atexit
    handlers still run and output is flushed. Returns (the caller exits normally) while a
    thread that is not a daemon still runs, and for statuses that are messages.
    """
    code = done.code
    if code is None:
        code = 0
    if not isinstance(code, int) or any(
        t.is_alive() and not t.daemon and t is not threading.main_thread()
        for t in threading.enumerate()
    ):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code & 0xFF)
