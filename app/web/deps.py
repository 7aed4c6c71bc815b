"""The web pages' context: the session cookie, with the form's CSRF token on writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import Ctx, request_ctx


async def _form_token(request: Request) -> str | None:
    # Read here, in the event loop: Starlette caches the parsed form for the endpoint.
    if request.method in ("GET", "HEAD"):
        return None
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def _web_ctx(
    request: Request, form_token: Annotated[str | None, Depends(_form_token)]
) -> Iterator[Ctx]:
    yield from request_ctx(request, "web", form_token)


def _pending_web_ctx(
    request: Request, form_token: Annotated[str | None, Depends(_form_token)]
) -> Iterator[Ctx]:
    yield from request_ctx(request, "web", form_token, pending_ok=True)


WebCtx = Annotated[Ctx, Depends(_web_ctx, scope="function")]
# Also for a user who must change their password: the password page and log-out.
PendingWebCtx = Annotated[Ctx, Depends(_pending_web_ctx, scope="function")]
