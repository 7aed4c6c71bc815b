"""Log in, log out and change password (required after a one-time password).

The login form is protected against CSRF by a double-submit cookie (there is no session
yet); attempts are rate-limited per client address, and accounts lock after repeated
failures (tools.users). Every refusal reads the same.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import SESSION_COOKIE, client_ip, open_session, settings_of
from app.web import page
from app.web.deps import WebCtx
from tools.errors import InvalidInput
from tools.users import LoginFailed, authenticate, end_session, set_password, start_session

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "steve_login_csrf"


def _login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", status=status, login_csrf=token, error=error, user=None)
    response.set_cookie(
        LOGIN_CSRF,
        token,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).cookie_secure,
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


def _login(request: Request, username: str, password: str) -> tuple[str, bool] | None:
    s = settings_of(request)
    session = open_session(request, "web")
    try:
        try:
            user = authenticate(
                session=session,
                username=username,
                password=password,
                max_failures=s.login_lockout_attempts,
                lockout=timedelta(minutes=s.login_lockout_minutes),
            )
        except LoginFailed:
            session.commit()  # the failure counts towards the lock-out
            return None
        assert user.id is not None
        new = start_session(session=session, user_id=user.id, ip=client_ip(request))
        session.commit()
        return new.secret, user.must_change_password
    finally:
        session.close()


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return _login_page(request, "Your login form expired; please try again.", 403)
    wait = request.app.state.login_limiter.hit(f"ip:{client_ip(request)}")
    if wait is not None:
        return _login_page(request, "Too many attempts; wait a minute and try again.", 429)
    result = await run_in_threadpool(_login, request, username, password)
    if result is None:
        return _login_page(request, "Invalid username or password.", 401)
    secret, must_change = result
    response = RedirectResponse("/password" if must_change else "/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=settings_of(request).cookie_secure,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout")
def logout(request: Request, ctx: WebCtx) -> Response:
    end_session(session=ctx.session, secret=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, ctx: WebCtx) -> HTMLResponse:
    return page(request, "password.html", ctx=ctx, user=ctx.user, error=None)


@router.post("/password")
def change_password(
    request: Request,
    ctx: WebCtx,
    new_password: Annotated[str, Form(max_length=1000)],
    repeat: Annotated[str, Form(max_length=1000)],
) -> Response:
    if new_password != repeat:
        return page(
            request,
            "password.html",
            status=422,
            ctx=ctx,
            user=ctx.user,
            error="The two passwords differ.",
        )
    try:
        assert ctx.user.id is not None
        set_password(
            session=ctx.session, user_id=ctx.user.id, password=new_password, actor=ctx.label
        )
    except InvalidInput as exc:
        return page(request, "password.html", status=422, ctx=ctx, user=ctx.user, error=str(exc))
    return RedirectResponse("/", status_code=303)
