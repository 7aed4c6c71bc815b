"""The signed-in user's own account: changing their password.

The current password is required (wrong ones count towards the lock-out like failed
logins); the new one must meet tools.passwords.check_password (NIST SP 800-63B). Every web
session of the user ends; a caller that used its session cookie gets a new session (and
CSRF token) in the response; bearer tokens keep working (only `steve users token` issues
and revokes them). Open to a user who must change their password: it is how they do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from app.api.deps import Ctx, PendingCtx, client_ip, set_session_cookie
from app.api.errors import ApiError, responses
from tools.users import WrongPassword, change_password, start_session

router = APIRouter(prefix="/api/me", tags=["auth"])


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


@router.post("/password", responses=responses(403, 413, 422, 429))
def change_my_password(
    body: PasswordChange, ctx: PendingCtx, request: Request, response: Response
) -> dict[str, Any]:
    """Change your password: 422 `invalid_input` names the rule a new password breaks
    (length, common or breached, your name or username, repeated or sequential), or says
    the current password was wrong."""
    wait = request.app.state.login_limiter.hit(f"ip:{client_ip(request)}")
    if wait is not None:
        raise ApiError(429, "rate_limited", "too many attempts; wait a minute and try again")
    ended, secret = renew_password(
        ctx, request, current=body.current_password, new=body.new_password
    )
    if secret is not None:
        set_session_cookie(response, request, secret)
    return {
        "changed": True,
        "web_sessions_ended": ended,
        "csrf_token": ctx.web.csrf_secret if ctx.web and secret else None,
    }


def renew_password(ctx: Ctx, request: Request, *, current: str, new: str) -> tuple[int, str | None]:
    """Change the user's password (web form and API alike): the web sessions it ended, and
    the cookie value of the caller's new session when it came with one. A wrong current
    password is committed (it counts towards the lock-out) before it is raised."""
    s = ctx.settings
    assert ctx.user.id is not None
    try:
        ended = change_password(
            session=ctx.session,
            user_id=ctx.user.id,
            current_password=current,
            new_password=new,
            max_failures=s.api.login_lockout_attempts,
            lockout=timedelta(minutes=s.api.login_lockout_minutes),
            practice_name=s.practice.name,
            actor=ctx.label,
        )
    except WrongPassword:
        ctx.session.commit()
        raise
    if ctx.web is None:
        return ended, None
    fresh = start_session(session=ctx.session, user_id=ctx.user.id, ip=client_ip(request))
    ctx.web = fresh.session
    return ended, fresh.secret
