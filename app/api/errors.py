"""One error body everywhere: {"error": {"code": ..., "message": ...}}.

Messages come from Steve's own errors (`str(error)`: record ids only, no patient data) or
are fixed texts; request validation names the field and the rule, never the value sent.
Unexpected exceptions are logged by type only and answered with a generic 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tools.access import AccessDenied
from tools.errors import (
    Ambiguous,
    Conflict,
    InvalidInput,
    InvalidTransition,
    NoMatch,
    NotFound,
    SteveError,
)

log = logging.getLogger("steve.api")

_STATUS: list[tuple[type[SteveError], int, str]] = [
    (AccessDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (NoMatch, 404, "not_found"),
    (Ambiguous, 409, "ambiguous"),
    (Conflict, 409, "conflict"),
    (InvalidTransition, 409, "invalid_transition"),
    (InvalidInput, 422, "invalid_input"),
]
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body(code, message), status_code=status, headers=headers)


def _respond(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """JSON for the API; for web pages a login redirect (401) or an HTML error page."""
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/static/"):
        return error_response(status, code, message, headers)
    if status == 401:
        return RedirectResponse("/login", status_code=303)
    if code == "password_change_required" and request.method in ("GET", "HEAD"):
        return RedirectResponse("/password", status_code=303)
    render = getattr(request.app.state, "html_error", None)
    if render is None:
        return error_response(status, code, message, headers)
    return render(request, status, message)  # type: ignore[no-any-return]


def steve_error_status(exc: SteveError) -> tuple[int, str]:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 400, "bad_request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(req: Request, exc: ApiError) -> Response:
        return _respond(req, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(SteveError)
    async def _steve(req: Request, exc: SteveError) -> Response:
        status, code = steve_error_status(exc)
        return _respond(req, status, code, str(exc))  # str(): ids only, never display()

    @app.exception_handler(RequestValidationError)
    async def _validation(req: Request, exc: RequestValidationError) -> Response:
        parts = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}"
            for e in exc.errors()[:3]
        ]
        return _respond(req, 422, "invalid_input", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return _respond(req, exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _db_down(_req: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable (%s)", type(exc.orig).__name__)
        return error_response(503, "unavailable", "the database is unavailable; try again")

    @app.exception_handler(SQLAlchemyError)
    async def _db(_req: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.warning("database error (%s)", type(exc).__name__)
        return error_response(500, "internal", "a database error occurred; nothing was changed")

    @app.exception_handler(Exception)
    async def _any(_req: Request, exc: Exception) -> JSONResponse:
        # The exception's text may hold patient data: its type is enough to find the bug.
        log.error("unhandled %s in request", type(exc).__name__)
        return error_response(500, "internal", "an internal error occurred; nothing was changed")
