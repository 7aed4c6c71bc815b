"""Log in, log out and change password (required after a one-time password).

The login form is protected against CSRF by a double-submit cookie (there is no session
yet); attempts are rate-limited per client address, and accounts lock after repeated
failures (tools.users). Every refusal reads the same.

Changing the password asks for the current one and ends every web session of the user;
the browser that changed it gets a new session. Until a user with a one-time password
has chosen their own, the password page and log-out are all they can use (app.api.deps).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import (
    SESSION_COOKIE,
    Ctx,
    client_ip,
    open_session,
    set_session_cookie,
    settings_of,
)
from app.api.routes.account import renew_password
from app.web import page
from app.web.deps import PendingWebCtx
from tools.errors import InvalidInput
from tools.passwords import MIN_PASSWORD
from tools.users import LoginFailed, authenticate, end_session, start_session

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
        secure=settings_of(request).api.cookie_secure,
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
                max_failures=s.api.login_lockout_attempts,
                lockout=timedelta(minutes=s.api.login_lockout_minutes),
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
    set_session_cookie(response, request, secret)
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout")
def logout(request: Request, ctx: PendingWebCtx) -> Response:
    end_session(session=ctx.session, secret=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _password_page(request: Request, ctx: Ctx, error: str | None, status: int) -> HTMLResponse:
    return page(
        request,
        "password.html",
        status=status,
        ctx=ctx,
        user=ctx.user,
        role=ctx.actor.role.value,
        csrf=ctx.web.csrf_secret if ctx.web else "",
        error=error,
        min_length=MIN_PASSWORD,
    )


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, ctx: PendingWebCtx) -> HTMLResponse:
    return _password_page(request, ctx, None, 200)


@router.post("/password")
def change_password(
    request: Request,
    ctx: PendingWebCtx,
    current_password: Annotated[str, Form(max_length=1000)],
    new_password: Annotated[str, Form(max_length=1000)],
    repeat: Annotated[str, Form(max_length=1000)],
) -> Response:
    if new_password != repeat:
        return _password_page(request, ctx, "The two new passwords differ.", 422)
    wait = request.app.state.login_limiter.hit(f"ip:{client_ip(request)}")
    if wait is not None:
        return _password_page(request, ctx, "Too many attempts; wait a minute and try again.", 429)
    try:
        _ended, secret = renew_password(ctx, request, current=current_password, new=new_password)
    except InvalidInput as exc:  # names the rule broken, never the password
        message = str(exc)
        return _password_page(request, ctx, message[:1].upper() + message[1:] + ".", 422)
    response = RedirectResponse("/?flash=" + quote("Password changed."), status_code=303)
    if secret is not None:
        set_session_cookie(response, request, secret)
    return response
