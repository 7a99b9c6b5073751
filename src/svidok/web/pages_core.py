"""Sign-in, the language switch, the list of cases and a case's dashboard."""

from __future__ import annotations

from uuid import UUID, uuid4

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from svidok.api.deps import SESSION_COOKIE, client_address
from svidok.cases.access import Permission
from svidok.cases.service import CaseworkError, NotFound
from svidok.cases.views import RecordFilter
from svidok.errors import AuthenticationFailed, LoginThrottled, SvidokError
from svidok.web import i18n
from svidok.web.common import actor_of, case_page, may, see_other, text
from svidok.web.i18n import N_
from svidok.web.render import STATIC, render
from svidok.web.router import router
from svidok.web.session import (
    checked_form,
    require_viewer,
    safe_next,
    set_session_cookie,
    state_of,
    viewer_of,
)

_FAILED = N_("The user name, password or code was not accepted.")
_THROTTLED = N_("Too many failed attempts. Wait a few minutes and try again.")
_SLASH = N_("A case reference cannot contain “/”: it is part of the case's web address.")


@router.get("/")
def home_page(request: Request) -> Response:
    return see_other("/cases" if viewer_of(request) is not None else "/signin")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The icon, for browsers that ask for it by this name (on a document that is not a
    page, such as JSON); the pages name it themselves. Open to anyone, like the static files."""
    return FileResponse(
        STATIC / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/signin")
def sign_in_page(request: Request) -> Response:
    if viewer_of(request) is not None:
        return see_other(safe_next(request.query_params.get("next")))
    return render(
        request,
        "signin.html",
        None,
        {"next": safe_next(request.query_params.get("next")), "error": "", "username": ""},
    )


def _sign_in(request: Request, username: str, password: str, code: str) -> tuple[str, UUID, bool]:
    """(an error message or "", the user, whether TOTP was used); a session is not started
    here. Unknown users cost the same time as known ones."""
    state = state_of(request)
    client = client_address(request)
    try:
        user = state.work.user_by_name(username)
        user_id, disabled = UUID(user.id), user.disabled
    except NotFound:
        user_id, disabled = uuid4(), True
    try:
        accepted = state.auth.check_password(user_id, password, client=client)
        if disabled:
            return _FAILED, user_id, False
        if accepted.totp_required:
            if not code:
                return N_("Enter the code from your authenticator app."), user_id, False
            state.auth.check_totp(user_id, code, client=client)
    except LoginThrottled:
        return _THROTTLED, user_id, False
    except (AuthenticationFailed, SvidokError):
        return _FAILED, user_id, False
    return "", user_id, bool(accepted.totp_required)


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    try:
        form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    except Exception:
        form = None
    username = text(form, "username", limit=200) if form is not None else ""
    password = str(form.get("password") or "")[:1024] if form is not None else ""
    code = text(form, "totp", limit=20) if form is not None else ""
    next_path = safe_next(form.get("next") if form is not None else None)
    error, user_id, second = await run_in_threadpool(_sign_in, request, username, password, code)
    if error:
        needs_code = error == N_("Enter the code from your authenticator app.")
        return render(
            request,
            "signin.html",
            None,
            {
                "next": next_path,
                "error": error,
                "username": username,
                "needs_code": needs_code,
            },
            status=200 if needs_code else 401,
        )
    state = state_of(request)
    started = state.auth.create_session(user_id, second_factor=second)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, state, started.cookie)
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is not None:
        await checked_form(request, viewer)
        state_of(request).auth.revoke_session(viewer.session_id)
    response = see_other("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.post("/language")
async def choose_language(request: Request) -> Response:
    """The interface language (a cookie; no session needed, nothing else changes)."""
    try:
        form = await request.form(max_files=0, max_fields=5, max_part_size=2048)
    except Exception:
        return see_other("/")
    lang = str(form.get("lang") or "")
    response = see_other(safe_next(form.get("next")))
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax", httponly=True
        )
    return response


@router.get("/cases")
def cases_page(request: Request) -> Response:
    viewer = require_viewer(request)
    state = state_of(request)
    cases = state.work.cases(actor_of(request, viewer), limit=500)
    return render(request, "cases.html", viewer, {"cases": cases, "section": "cases", "error": ""})


@router.post("/cases")
async def create_case(request: Request) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    fields = {
        "reference": text(form, "reference", limit=80),
        "title": text(form, "title", limit=500),
        "description": text(form, "description"),
    }
    state = state_of(request)
    slash = i18n.gettext_(_SLASH)

    def create() -> str:
        if "/" in fields["reference"]:  # the reference is a part of every address of the case
            raise CaseworkError(slash)
        with state.writing():
            return state.work.create_case(actor_of(request, viewer), fields).reference

    try:
        reference = await run_in_threadpool(create)
    except CaseworkError as exc:
        cases = state.work.cases(actor_of(request, viewer), limit=500)
        return render(
            request,
            "cases.html",
            viewer,
            {"cases": cases, "section": "cases", "error": str(exc), "form": fields},
            status=422,
        )
    return see_other(f"/cases/{reference}")


KIND_NAMES = {
    "item": N_("Items"),
    "incident": N_("Incidents"),
    "person": N_("People"),
    "place": N_("Places"),
    "source": N_("Sources"),
}


@router.get("/cases/{key}")
def case_dashboard(request: Request, key: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    counts = {
        kind: state.work.find(actor, case.id, RecordFilter(kind=kind), limit=1).total
        for kind in KIND_NAMES
    }
    review = state.work.find(actor, case.id, RecordFilter(assessment="in review"), limit=10)
    activity = state.work.activity(actor, case.id, limit=15)
    return render(
        request,
        "case.html",
        viewer,
        {
            "case": case,
            "section": "dashboard",
            "counts": counts,
            "kind_names": KIND_NAMES,
            "review": review,
            "activity": activity,
            "may_edit": may(case, Permission.EDIT),
        },
    )
