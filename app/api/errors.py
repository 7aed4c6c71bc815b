"""One error body everywhere: {"error": {"code": ..., "message": ...}}.

Messages come from Steve's own errors (`str(error)`: record ids only, no patient data) or
are fixed texts; request validation names the field and the rule, never the value sent.
Unexpected exceptions are logged by type only and answered with a generic 500.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from db.failures import chat_store_name, describe, store_name
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


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers with (the OpenAPI description declares it per status)."""

    error: ErrorDetail


_WHY = {
    400: "The request body could not be parsed.",
    401: "Not authenticated: no, an invalid, an expired or a revoked bearer token.",
    403: "Refused by the access policy (or, for a web session, a missing CSRF token).",
    404: "A record named in the request does not exist (or is not yours).",
    409: "The request conflicts with the record's state or the practice's rules.",
    413: "The request body is too large.",
    422: "Invalid input: the message names the field and the rule broken.",
    429: "Too many requests; wait as long as Retry-After says.",
    502: "The language model could not answer.",
    503: "The database is unavailable; try again.",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses an operation really answers with
    (401, 403 and 503 apply to every operation and are always included: 403 at least as
    `password_change_required` for a user who must change their password; an operation with
    a body, which may be too large (413), may also be unparseable (400))."""
    codes = {401, 403, 503, *statuses} | ({400} if 413 in statuses else set())
    return {s: {"model": ErrorBody, "description": _WHY[s]} for s in sorted(codes)}


def event_streams_only(schema: dict[str, Any]) -> dict[str, Any]:
    """A streamed operation's 200 is `text/event-stream` only (FastAPI also lists JSON)."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            ok = operation.get("responses", {}).get("200", {}).get("content", {})
            if "text/event-stream" in ok:
                ok.pop("application/json", None)
    return schema


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
    @app.exception_handler(ValidationError)  # a web form's fields checked by an API model
    async def _validation(req: Request, exc: RequestValidationError | ValidationError) -> Response:
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

    @app.exception_handler(DBAPIError)
    async def _db_failed(req: Request, exc: DBAPIError) -> JSONResponse:
        failure = describe(exc, store=store_name(req.app.state.settings.db_url))
        if failure.kind == "refused" and not isinstance(exc, OperationalError):
            log.warning("database error (%s)", type(exc).__name__)
            return error_response(500, "internal", "a database error occurred; nothing was changed")
        log.warning("%s (%s)", failure.message, type(exc.orig).__name__)
        return error_response(failure.status, failure.code, failure.message)

    @app.exception_handler(sqlite3.Error)
    async def _chat_store_failed(req: Request, exc: sqlite3.Error) -> JSONResponse:
        # Outside SQLAlchemy, SQLite is the chat store (LangGraph's checkpoints).
        from app.wiring import checkpoint_path

        store = chat_store_name(checkpoint_path(req.app.state.settings))
        failure = describe(exc, store=store)
        log.error("%s (%s)", failure.message, type(exc).__name__)
        return error_response(failure.status, failure.code, failure.message)

    @app.exception_handler(DataError)
    async def _unstorable(req: Request, exc: DataError) -> Response:
        # A value the database cannot hold (SQLSTATE class 22) that no check caught first:
        # the request's fault, not the server's; the value itself is never echoed.
        log.warning("value refused by the database (%s)", type(exc.orig).__name__)
        return _respond(
            req, 422, "invalid_input", "a value is out of range or cannot be stored (e.g. NUL)"
        )

    @app.exception_handler(SQLAlchemyError)
    async def _db(_req: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.warning("database error (%s)", type(exc).__name__)
        return error_response(500, "internal", "a database error occurred; nothing was changed")

    @app.exception_handler(Exception)
    async def _any(_req: Request, exc: Exception) -> JSONResponse:
        # The exception's text may hold patient data: its type is enough to find the bug.
        log.error("unhandled %s in request", type(exc).__name__)
        return error_response(500, "internal", "an internal error occurred; nothing was changed")
