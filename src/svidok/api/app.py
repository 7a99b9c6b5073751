"""The JSON API application: ``create_app(home_path)``; every route under ``/api/v1``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from svidok.api import (
    captures,
    cases,
    duplicates,
    exports,
    items,
    ledger,
    me,
    records,
    search,
    session,
    uploads,
)
from svidok.api.deps import DEFAULT_UPLOAD_LIMIT, ApiState
from svidok.api.errors import install

PREFIX = "/api/v1"
ROUTERS = (
    session.router,
    me.router,
    cases.router,
    records.router,
    items.router,
    uploads.router,
    captures.router,
    exports.router,
    duplicates.router,
    ledger.router,
    search.router,
)


def route_table() -> list[tuple[str, str]]:
    """(method, path) of every route of the API, for the authorization matrix."""
    return sorted(
        (method, PREFIX + route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


def open_state(
    home_path: Path,
    *,
    upload_limit: int = DEFAULT_UPLOAD_LIMIT,
    staging_dir: Path | None = None,
    secure_cookies: bool = True,
) -> ApiState:
    from svidok.auth.store import AuthStore
    from svidok.cases.service import open_casework
    from svidok.home import Home

    home = Home.open(home_path)
    try:
        auth = AuthStore.for_home(home.path)
        auth.migrate()
    except BaseException:
        home.close()
        raise
    return ApiState(
        home=home,
        work=open_casework(home),
        auth=auth,
        upload_limit=upload_limit,
        staging_dir=staging_dir,
        secure_cookies=secure_cookies,
    )


def create_app(
    home_path: Path,
    *,
    upload_limit: int = DEFAULT_UPLOAD_LIMIT,
    staging_dir: Path | None = None,
    secure_cookies: bool = True,
    web: bool = True,
    previews: bool = False,
) -> FastAPI:
    """The API (and, with ``web``, the web app at ``/``) over the data home at
    ``home_path`` (opened at start-up, closed at the end).

    ``upload_limit``: the largest upload accepted, in bytes. ``staging_dir``: where uploads
    are received before intake (outside the data home; default: the temporary folder).
    ``secure_cookies``: False only for plain-HTTP development on localhost. ``previews``:
    make the previews of originals in a background thread (every upload's, and at start
    those missing), as ``svidok serve`` does.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "svidok", None) is not None:  # opened by the caller
            yield
            return
        state = open_state(
            home_path,
            upload_limit=upload_limit,
            staging_dir=staging_dir,
            secure_cookies=secure_cookies,
        )
        app.state.svidok = state
        if previews:
            from svidok.derive.jobs import PreviewJobs

            state.previews = PreviewJobs(state.home, actor="svidok serve")
            state.previews.start()
        try:
            yield
        finally:
            if state.previews is not None:
                state.previews.stop()
            app.state.svidok = None
            state.auth.close()
            state.home.close()

    app = FastAPI(
        title="Svidok",
        summary="Evidence locker with a tamper-evident custody ledger",
        version="1",
        lifespan=lifespan,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # FastAPI's docs page loads its script from a CDN: never served
        redoc_url=None,
    )
    install(app)
    api = APIRouter(prefix=PREFIX)
    for router in ROUTERS:
        api.include_router(router)
    app.include_router(api)
    if web:
        from svidok.web import mount

        mount(app, tiles_origin=_tiles_origin(home_path))
    return app


def _tiles_origin(home_path: Path) -> str | None:
    """The map tile server's origin from the home's settings, for the page's CSP (None: no
    tiles, or settings unreadable: then the app refuses to start anyway)."""
    from svidok.config import CONFIG_FILE, Config, tiles_origin
    from svidok.errors import ConfigError

    try:
        config = Config.load(home_path / CONFIG_FILE)
    except (OSError, ConfigError):
        return None
    return tiles_origin(config.tiles) if config.tiles else None
