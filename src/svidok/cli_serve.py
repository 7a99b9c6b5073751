"""``svidok serve``: run the JSON API with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    upload_limit_mb: Annotated[
        int, typer.Option("--upload-limit-mb", min=1, help="Largest upload accepted, in MiB.")
    ] = 8192,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            "--insecure-cookies",
            help="Send the session cookie over plain HTTP too (development on localhost only).",
        ),
    ] = False,
    previews: Annotated[
        bool,
        typer.Option("--previews/--no-previews",
                     help="Make the previews (`svidok previews`) and the near-duplicate "
                     "hashes (`svidok duplicates hash`) of originals in the background."),
    ] = True,
    home: Annotated[
        Path | None, typer.Option("--home", help="The data home (default: $SVIDOK_HOME).")
    ] = None,
) -> None:
    """Serve the JSON API (/api/v1; OpenAPI document at /api/v1/openapi.json)."""
    import uvicorn

    from svidok import cli
    from svidok.api import create_app

    app = create_app(
        cli._home_path(home),  # the command's --home, else the one before the command name
        upload_limit=upload_limit_mb << 20,
        secure_cookies=not insecure_cookies,
        previews=previews,
    )
    shown = f"[{host}]" if ":" in host else host
    cli.out.print(f"Svidok is serving at http://{shown}:{port}/ (Ctrl-C stops it)", markup=False)
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False)
