"""``svidok user``, ``svidok case``, ``svidok token``, ``svidok rebuild`` and ``svidok
demo``: thin commands over the casework API (svidok.cases), the access store
(svidok.auth) and the demo (svidok.demo).

The command line acts as the local operator: whoever runs it on the machine that holds
the data home can do everything (docs/threat-model.md); what it does is in the ledger
under the operating-system user's name.
"""

from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

if TYPE_CHECKING:
    from svidok.cases.access import Actor
    from svidok.demo import DemoReport
    from svidok.home import Home

user_app = typer.Typer(no_args_is_help=True, help="User accounts (system administration).")
case_app = typer.Typer(no_args_is_help=True, help="Cases and who may see them.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", show_default=False, help="The data home (default: $SVIDOK_HOME)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _home(home: Path | None) -> Home:
    from svidok import cli

    return cli._open(home)


def _operator() -> Actor:
    from svidok import cli
    from svidok.cases.access import Actor

    return Actor.operator(cli._actor())


def _emit(data: object, as_json: bool, text: str) -> None:
    from svidok import cli
    from svidok.textsafe import escape_text

    if as_json:
        cli._print_json(data)
    else:
        for line in text.split("\n"):
            cli.out.print(escape_text(line), markup=False, highlight=False)  # text, never markup


@contextlib.contextmanager
def _counting(label: str, as_json: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr counting originals done of all to do (``progress(n, total)``
    for the Python API's callback), or None when output is for machines or not a terminal."""
    from svidok import cli

    if as_json or not cli._show_progress():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                  console=cli.err, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise typer.BadParameter("the two passwords differ")
    return first


# -------------------------------------------------------------------------- users
@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name: letters, digits, . - _")],
    display_name: Annotated[str, typer.Option("--display-name", help="Name shown.")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="A system administrator.")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a user (asks for the password; it is stored only as an argon2id hash)."""
    from svidok.auth.passwords import check_policy
    from svidok.auth.store import AuthStore
    from svidok.cases.service import open_casework

    password = _read_password(password_stdin)
    check_policy(password)  # before anything is written
    with _home(home) as h:
        work = open_casework(h)
        user = work.add_user(_operator(), username, display_name or username, admin=admin)
        store = AuthStore.for_home(h.path)
        try:
            store.migrate()
            store.set_password(UUID(user.id), password)
        finally:
            store.close()
    _emit(user.model_dump(mode="json"), as_json, f"added user {user.username} ({user.id})")


@user_app.command("list")
def user_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List the user accounts."""
    from svidok.cases.service import open_casework

    with _home(home) as h:
        users = open_casework(h).users()
    if as_json:
        _emit([u.model_dump(mode="json") for u in users], True, "")
        return
    for u in users:
        flags = ", ".join(f for f, on in (("admin", u.admin), ("disabled", u.disabled)) if on)
        _emit(None, False, f"{u.username}  {u.display_name}  {u.id}  {flags}")


# -------------------------------------------------------------------------- cases
@case_app.command("create")
def case_create(
    reference: Annotated[str, typer.Argument(help="The case's reference, e.g. UA-2022-117.")],
    title: Annotated[str, typer.Option("--title", help="What the case is about.")],
    description: Annotated[str, typer.Option("--description")] = "",
    owner: Annotated[
        str | None, typer.Option("--owner", help="A user who becomes the case's owner.")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a case (the access boundary)."""
    from svidok.cases.service import open_casework

    with _home(home) as h:
        work = open_casework(h)
        actor = _operator()
        fields = {"reference": reference, "title": title, "description": description}
        case = work.create_case(actor, fields)
        if owner is not None:
            work.grant(actor, case.id, work.user_by_name(owner).id, "owner")
    _emit(case.model_dump(mode="json"), as_json, f"created case {case.reference} ({case.id})")


@case_app.command("list")
def case_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List every case."""
    from svidok.cases.service import open_casework

    with _home(home) as h:
        page = open_casework(h).cases(_operator(), limit=500)
    if as_json:
        _emit([c.model_dump(mode="json") for c in page.items], True, "")
        return
    for c in page.items:
        _emit(None, False, f"{c.reference}  {c.title}  {c.status}  {c.id}")


@case_app.command("grant")
def case_grant(
    case: Annotated[str, typer.Argument(help="Case reference or UUID.")],
    username: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[str, typer.Argument(help="owner, investigator, reviewer, analyst or viewer.")],
    home: HomeOpt = None,
) -> None:
    """Give a user a role on a case (replaces any role they had)."""
    from svidok.cases.access import Role
    from svidok.cases.service import open_casework

    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter(f"a role is one of: {', '.join(r.value for r in Role)}") from None
    with _home(home) as h:
        work = open_casework(h)
        actor = _operator()
        found = work.find_case(actor, case)
        work.grant(actor, found.id, work.user_by_name(username).id, chosen)
    _emit(None, False, f"{username} is now {chosen.value} on {found.reference}")


@case_app.command("revoke")
def case_revoke(
    case: Annotated[str, typer.Argument(help="Case reference or UUID.")],
    username: Annotated[str, typer.Argument(help="The user.")],
    home: HomeOpt = None,
) -> None:
    """Take a user's role on a case away."""
    from svidok.cases.service import open_casework

    with _home(home) as h:
        work = open_casework(h)
        actor = _operator()
        found = work.find_case(actor, case)
        work.revoke(actor, found.id, work.user_by_name(username).id)
    _emit(None, False, f"{username} has no role on {found.reference} any more")


# ------------------------------------------------------------------------- tokens
@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="Whose token.")],
    cases: Annotated[
        list[str] | None,
        typer.Option("--case", help="Limit the token to this case (repeatable)."),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Days until it expires.")] = 90,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue an API token. Its text is printed once and stored only as a hash."""
    from svidok.auth.store import AuthStore
    from svidok.cases.service import open_casework

    with _home(home) as h:
        work = open_casework(h)
        actor = _operator()
        user = work.user_by_name(username)
        scope = None if not cases else [work.find_case(actor, c).id for c in cases]
        store = AuthStore.for_home(h.path)
        try:
            store.migrate()
            info, text = store.create_token(
                UUID(user.id),
                None if scope is None else [UUID(c) for c in scope],
                timedelta(days=days),
            )
            try:
                work.issue_token(
                    actor,
                    user.id,
                    info.token_id,
                    scope,
                    info.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
            except Exception:
                store.revoke_token(info.token_id)  # never a live token the ledger lacks
                raise
        finally:
            store.close()
    data = {"token": text, "id": info.token_id, "expires": info.expires.isoformat()}
    _emit(
        data,
        as_json,
        f"{text}\n(token {info.token_id}, expires {info.expires:%Y-%m-%d}; "
        "shown once: keep it secret)",
    )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id.")],
    home: HomeOpt = None,
) -> None:
    """Revoke an API token at once."""
    from svidok.auth.store import AuthStore
    from svidok.cases.service import open_casework

    with _home(home) as h:
        store = AuthStore.for_home(h.path)
        try:
            store.migrate()
            store.revoke_token(token_id)
        finally:
            store.close()
        open_casework(h).revoke_token(_operator(), token_id)
    _emit(None, False, f"token {token_id} revoked")


# ------------------------------------------------------------------------ rebuild
def rebuild_command(home: HomeOpt = None) -> None:
    """Rebuild the catalog from the ledger (replaces every projected row, in one transaction)."""
    from svidok.rebuild import rebuild

    with _home(home) as h:
        done = rebuild(h)
    _emit(None, False, f"catalog rebuilt from {done} ledger entries")


# ------------------------------------------------------------------- passwords
@user_app.command("reset-password")
def user_reset_password(
    username: Annotated[str, typer.Argument(help="The user.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a new random one-time password (printed once, never stored in clear; to be
    changed at the next sign-in) and end every session and API token of the user."""
    from svidok.auth.store import AuthStore
    from svidok.cases.service import NotFound, open_casework

    with _home(home) as h:
        work = open_casework(h)
        user = work.user_by_name(username)
        store = AuthStore.for_home(h.path)
        try:
            store.migrate()
            issued = store.issue_one_time_password(UUID(user.id))
        finally:
            store.close()
        actor = _operator()
        for token_id in issued.revoked_tokens:  # the ledger records every revocation
            with suppress(NotFound):  # NotFound: issued without a ledger record
                work.revoke_token(actor, token_id)
    data = {
        "username": user.username,
        "one_time_password": issued.password,
        "revoked_tokens": list(issued.revoked_tokens),
    }
    _emit(
        data,
        as_json,
        f"One-time password for {user.username}: {issued.password}\n"
        "(shown once and stored only hashed; it must be changed at the first sign-in; "
        f"every session and {len(issued.revoked_tokens)} API tokens of the user revoked)",
    )


# ------------------------------------------------------------------------- demo
def demo_command(
    home: HomeOpt = None,
    samples: Annotated[
        Path | None,
        typer.Option(
            "--samples",
            help="The folder examples/make_samples.py wrote; its files become the case's items.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Set up the demo case (idempotent): the sample files, invented casework records, and
    on a home without users an admin and a reviewer with one-time passwords (printed once).
    Exit 1 if a sample file could not be preserved."""
    from svidok import cli
    from svidok.demo import run_demo

    with _home(home) as h:
        report = run_demo(h, _operator(), samples)
    if as_json:
        cli._print_json(report.to_json())
    else:
        _print_demo(report)
    raise typer.Exit(0 if report.ok else 1)


def _print_demo(report: DemoReport) -> None:
    from rich.table import Table
    from rich.text import Text

    from svidok import cli
    from svidok.demo import ADMIN

    out = cli.out
    state = "created" if report.case_created else "already there"
    out.print(f"Demo case {report.case_reference} ({report.case_id}): {state}", markup=False)
    if report.files:
        files = ", ".join(f"{n} {status}" for status, n in report.files.items())
        out.print(f"Sample files: {files}", markup=False)
    for problem in report.failed:
        cli.err.print(f"not preserved: {problem}", markup=False)
    table = Table(title="Demo case")
    for column in ("records", "added now", "in the case"):
        table.add_column(column, justify="left" if column == "records" else "right")
    rows = [
        ("items", "item"),
        ("places", "place"),
        ("sources", "source"),
        ("incidents", "incident"),
        ("people", "person"),
        ("links", "link"),
        ("waiting for a second reviewer", "in review"),
    ]
    for label, key in rows:
        added = report.created.get("assessment" if key == "in review" else key, 0)
        table.add_row(Text(label), Text(str(added)), Text(str(report.totals.get(key, 0))))
    out.print(table)
    if not report.changed:
        out.print("Nothing to add: the demo case is complete.", markup=False)
    for user in report.users:
        if user.password is not None:
            out.print(
                f"Created user {user.username} ({user.role} on {report.case_reference}). "
                f"One-time password: {user.password}",
                markup=False,
            )
        else:
            out.print(
                f"User {user.username} exists; to give it a new one-time password: "
                f"svidok user reset-password {user.username}",
                markup=False,
            )
    if any(u.password for u in report.users):
        out.print(
            "The passwords above are shown this once and stored only hashed: note them now. "
            "Each must be changed at the first sign-in.",
            markup=False,
        )
    elif not report.users:
        out.print(
            f"The home has other users: no demo users made (an administrator like {ADMIN} "
            f"sees the case once granted a role: svidok case grant {report.case_reference} "
            "USERNAME owner).",
            markup=False,
        )
