"""One error envelope for every failure: ``{"error": {"code": ..., "message": ...}}``.

Messages are the library's own plain-language messages (which never hold a secret) or
fixed texts; an unexpected exception becomes a generic 500 without any detail.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from svidok.cases.access import AccessDenied as CaseAccessDenied
from svidok.cases.service import CaseworkError, Conflict, NotFound
from svidok.errors import (
    AccessDenied,
    AuthenticationFailed,
    CsrfError,
    IntakeError,
    LedgerLockedError,
    LoginThrottled,
    ObjectNotFoundError,
    PasswordPolicyError,
    SearchError,
    SvidokError,
    TokenPolicyError,
    TotpError,
    UnknownUserError,
)

log = logging.getLogger("svidok.api")


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


#: every route documents this as its ``default`` response
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    "default": {"model": ErrorEnvelope, "description": "An error (see error.code)"}
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "throttled",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API layer raises itself."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _HTTP_CODES.get(status, "error")
        self.message = message
        self.headers = headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _classify(exc: SvidokError) -> tuple[int, str, dict[str, str] | None]:
    if isinstance(exc, LoginThrottled):
        return 429, "throttled", {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, AuthenticationFailed):
        return 401, "unauthenticated", {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, CsrfError):
        return 403, "csrf", None
    if isinstance(exc, AccessDenied | CaseAccessDenied):
        return 403, "forbidden", None
    if isinstance(exc, NotFound | ObjectNotFoundError):
        return 404, "not_found", None
    if isinstance(exc, Conflict | TotpError | UnknownUserError):
        return 409, "conflict", None
    if isinstance(
        exc, CaseworkError | IntakeError | PasswordPolicyError | TokenPolicyError | SearchError
    ):
        return 422, "invalid", None
    if isinstance(exc, LedgerLockedError):
        return 503, "busy", {"Retry-After": "5"}
    return 500, "internal", None


def _page(request: Request, status: int, message: str, exc: Exception) -> Response | None:
    """The web app's error page for a request outside /api (None: answer with JSON)."""
    if request.url.path.startswith("/api/"):
        return None
    handler = getattr(request.app.state, "web_error", None)
    if handler is None:
        return None
    response = handler(request, status, message, exc)
    assert isinstance(response, Response)
    return response


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the envelope (or, for the web
    app's pages, into an error page)."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        page = _page(request, exc.status, exc.message, exc)
        if page is not None:
            return page
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(SvidokError)
    async def _svidok(request: Request, exc: SvidokError) -> Response:
        status, code, headers = _classify(exc)
        if status >= 500:
            log.error("request failed: %s", type(exc).__name__)
        page = _page(request, status, str(exc) if status < 500 else "", exc)
        if page is not None:
            return page
        if status >= 500:
            return error_response(status, code, "the request could not be carried out")
        return error_response(status, code, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors()[:20]:
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        page = _page(request, 422, "; ".join(problems), exc)
        if page is not None:
            return page
        return error_response(422, "invalid", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        page = _page(request, exc.status_code, message, exc)
        if page is not None:
            return page
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error: %s", type(exc).__name__)
        page = _page(request, 500, "", exc)
        if page is not None:
            return page
        return error_response(500, "internal", "the request could not be carried out")
