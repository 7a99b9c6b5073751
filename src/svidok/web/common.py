"""What the page modules share: the case a page is about, paging, form values, redirects."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse

from svidok.cases.access import Permission
from svidok.cases.views import CaseView
from svidok.web.render import Viewer
from svidok.web.session import state_of

PAGE_SIZE = 50


def actor_of(request: Request, viewer: Viewer) -> Any:
    """The casework actor for the signed-in user (a browser session reaches every case the
    user holds a role on)."""
    from svidok.cases.access import Actor

    user = viewer.user
    return Actor(name=user.username, user_id=user.id, admin=user.admin, cases=None)


def case_of(request: Request, viewer: Viewer, key: str) -> CaseView:
    """The case by reference or id; AccessDenied unless the viewer holds a role on it."""
    return state_of(request).work.find_case(actor_of(request, viewer), key)


def may(case: CaseView, permission: Permission) -> bool:
    return permission in case.permissions


def page_offset(request: Request) -> int:
    try:
        return max(0, min(int(request.query_params.get("offset", "0")), 10**9))
    except ValueError:
        return 0


def text(form: FormData, name: str, *, limit: int = 20_000) -> str:
    value = form.get(name)
    if value is None or not isinstance(value, str):
        return ""
    return value.strip()[:limit]


def optional(form: FormData, name: str) -> str | None:
    value = text(form, name)
    return value or None


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
