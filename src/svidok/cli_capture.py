"""``svidok capture``: capture a web page into a case (thin layer over svidok.capture)."""

from __future__ import annotations

from typing import Annotated

import typer

from svidok.cli_casework import HomeOpt, JsonOpt, _emit, _home, _operator


def capture_command(
    url: Annotated[str, typer.Argument(help="The http(s) URL of the page to capture.")],
    case: Annotated[str, typer.Option("--case", help="The case (reference or UUID).")],
    collector: Annotated[
        str | None, typer.Option("--collector", help="Who captured it (default: you).")
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="A note on the capture (in the ledger in clear).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds for the whole capture (default: capture.timeout)."),
    ] = None,
    max_bytes: Annotated[
        int | None,
        typer.Option("--max-bytes", help="Bytes of all responses (default: capture.max_bytes)."),
    ] = None,
    allow_untrusted: Annotated[
        bool,
        typer.Option(
            "--allow-untrusted",
            help="Capture HTTPS sites whose certificate does not verify (recorded as untrusted).",
        ),
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Capture a web page in headless Chromium: a WACZ of everything fetched, the HTML source,
    the rendered DOM, a full-page screenshot, the page text and each embedded media file, all
    stored as items of the case, with one ``capture`` entry in the ledger."""
    from svidok import cli
    from svidok.capture import capture, options_for
    from svidok.errors import CaptureError

    with _home(home) as h:
        try:
            options = options_for(
                h.config,
                case=case,
                collector=collector or cli._actor(),
                note=note,
                timeout=timeout,
                max_bytes=max_bytes,
                allow_untrusted=allow_untrusted,
            )
            report = capture(h, url, options, _operator())
        except CaptureError as exc:
            cli._fail(f"capture failed: {exc}")
    f = report.fetched
    lines = [
        f"captured {f.url} (HTTP {f.status}) as entry #{report.entry}",
        *(f"  redirect {u} ({s})" for u, s in f.redirects),
        *(
            f"  {o.role}: {o.object_id[:19]} {o.media_type} {o.size:,} bytes"
            for o in report.objects
        ),
        f"{len(report.items)} new items in the case; {f.skipped_count} requests skipped",
        *([f"cut at their size limits: {', '.join(f.cut)}"] if f.cut else []),
    ]
    if f.certificate is not None:
        lines.insert(1, f"  TLS: {f.certificate.subject} "
                        f"({'trusted' if f.certificate.trusted else 'NOT trusted'})")
    _emit(report.to_json(), as_json, "\n".join(lines))
