"""Pages from Jinja2 templates: every value escaped, every form with the session's CSRF
token, every message in the reader's language."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from svidok.cases.views import UserView
from svidok.textsafe import escape_text
from svidok.web import i18n

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True)
class Viewer:
    """Who the page is for: the signed-in user and the session's CSRF token."""

    user: UserView
    csrf_token: str
    session_id: str
    second_factor: bool = False
    must_change_password: bool = False


@cache
def _static_version(name: str) -> str:
    path = STATIC / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


def static_url(name: str) -> str:
    """The address of a static file, with its content's hash so browsers never keep a stale
    copy after an upgrade."""
    return f"/static/{name}?v={_static_version(name)}"


def _short_hash(value: str, length: int = 16) -> str:
    return value.removeprefix("sha256:")[:length]


def _size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def _translated(value: object) -> str:
    return i18n.gettext_(str(value)) if value not in (None, "") else ""


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext_, i18n.ngettext_, newstyle=True
    )
    env.globals["static_url"] = static_url
    env.globals["languages"] = i18n.LANGUAGES
    # translate a stored value (status, kind, role); the result is escaped like any text.
    # ``_()`` is for message literals only: its result is trusted markup
    env.filters["tr"] = _translated
    env.filters["short_hash"] = _short_hash
    env.filters["size"] = _size
    env.filters["shown"] = escape_text  # control and bidi characters made visible
    return env


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    values: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer is not None else "",
        "lang": i18n.language(),
        # where the page's forms come back to (the language switch, assessments, links):
        # this page with its filters
        "path": request.url.path + ("?" + request.url.query if request.url.query else ""),
        "case": None,
        "section": "",
    }
    values.update(context or {})
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    return response
