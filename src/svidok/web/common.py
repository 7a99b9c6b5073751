"""What the page modules share: the case a page is about, paging, form values, redirects."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse

from svidok.api.deps import ApiState
from svidok.cases.access import AccessDenied, Permission
from svidok.cases.views import CaseView, LinkView, RecordFilter, RecordView
from svidok.web.render import Viewer
from svidok.web.session import require_viewer, state_of

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


def case_page(request: Request, key: str) -> tuple[Viewer, CaseView, ApiState, Any]:
    """What a case's page starts from: the signed-in viewer (else the way to sign in), the
    case (AccessDenied unless the viewer holds a role on it), the app's state and the
    casework actor."""
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    return viewer, case, state_of(request), actor_of(request, viewer)


def may(case: CaseView, permission: Permission) -> bool:
    return permission in case.permissions


def require(case: CaseView, *permissions: Permission, what: str = "edit") -> None:
    """AccessDenied unless the viewer's role on the case holds one of ``permissions``."""
    if not any(may(case, p) for p in permissions):
        raise AccessDenied(f"your role on this case does not allow: {what}")


def records_of_kind(state: ApiState, actor: Any, case_id: str, kind: str) -> list[RecordView]:
    """The case's records of ``kind`` (at most 500), for a form's choices."""
    items: list[RecordView] = state.work.find(
        actor, case_id, RecordFilter(kind=kind), limit=500
    ).items
    return items


def other_end(link: LinkView, record: str) -> str:
    """The record at the other end of ``link`` from ``record``."""
    return link.to_id if link.from_id == record else link.from_id


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
