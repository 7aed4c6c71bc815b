"""Per-request dependencies: the database session, who is asking, and the access checks.

Authentication is a bearer token (scripts) or the web session cookie (the web app; unsafe
methods then also need the session's CSRF token). The role comes from the user record and
is checked against the practitioner record on every request (tools.access decides).

One transaction per request: committed when the endpoint returns, and also when it was
refused by the access policy, so the denial's audit row is kept; rolled back otherwise.
Every audit row the request adds is stamped with where it came from (api:IP or web:IP).

A user who must change their password (a one-time password from `steve users add` or
`users reset-password`) gets nothing else until they have: every request authenticated
with their session cookie or one of their bearer tokens is refused (403
`password_change_required`) except the password change itself, `GET /api/me` and log-out,
which use the `pending_ok` contexts below. Static assets need no authentication.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy import Engine, event
from sqlmodel import Session

from app.api.errors import ApiError
from app.settings import Settings
from db.models import AuditEvent, User, WebSession
from tools import audit
from tools.access import AccessDenied, Actor, Category, require
from tools.users import actor_of, check_session, verify_token

SESSION_COOKIE = "steve_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_ip(request: Request) -> str:
    # The direct peer; behind a reverse proxy, run uvicorn with --proxy-headers.
    return (request.client.host if request.client else "unknown")[:45]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def engine_of(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def stamp_origin(session: Session, origin: str) -> None:
    """Audit rows written in this session say where the request came from (the practice
    operations write their own rows and do not know about HTTP)."""

    @event.listens_for(session, "before_flush")
    def _stamp(sess: Any, _ctx: Any, _instances: Any) -> None:
        for obj in sess.new:
            if isinstance(obj, AuditEvent):
                obj.origin = origin


@dataclass
class Ctx:
    """The request's session, user, actor and origin, with the access checks."""

    session: Session
    user: User
    actor: Actor
    origin: str
    settings: Settings
    web: WebSession | None = None

    @property
    def label(self) -> str:
        return self.actor.label

    def require(self, *needs: Category, patient_id: int | None = None, entity: str = "api") -> None:
        require(
            session=self.session,
            actor=self.actor,
            needs=set(needs),
            patient_id=patient_id,
            entity=entity,
            origin=self.origin,
        )

    def audit(
        self,
        action: str,
        entity: str,
        *,
        patient_id: int | None = None,
        entity_id: int | None = None,
    ) -> None:
        audit.record(
            session=self.session,
            actor=self.label,
            action=action,
            entity=entity,
            entity_id=entity_id,
            patient_id=patient_id,
            origin=self.origin,
        )

    def audit_reads(self, entity: str, patient_ids: Iterable[int | None]) -> None:
        """One read row per patient whose data a response carries (a page is bounded)."""
        self.end_reads()
        for pid in sorted({p for p in patient_ids if p is not None}):
            self.audit("read", entity, patient_id=pid)

    def end_reads(self) -> None:
        """End the read-only part before the audit rows are written. On SQLite a transaction
        that read and then writes cannot wait for the write lock (SQLITE_BUSY at once when
        another request wrote meanwhile); a fresh transaction that starts with the write
        waits for it. The response still goes out only after its audit rows commit."""
        self.session.commit()


def _authenticate(
    request: Request, session: Session, s: Settings
) -> tuple[User, WebSession | None]:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        user = (
            verify_token(session=session, secret=secret.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if user is None:
            raise ApiError(
                401,
                "unauthorized",
                "missing, invalid, expired or revoked token",
                {"WWW-Authenticate": "Bearer"},
            )
        return user, None
    cookie = request.cookies.get(SESSION_COOKIE)
    found = check_session(
        session=session, secret=cookie or "", idle=timedelta(minutes=s.api.session_idle_minutes)
    )
    if found is None:
        raise ApiError(
            401, "unauthorized", "log in or send a bearer token", {"WWW-Authenticate": "Bearer"}
        )
    web, user = found
    return user, web


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=settings_of(request).api.cookie_secure,
        path="/",
    )


def check_csrf(request: Request, web: WebSession, form_token: str | None = None) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    if not hmac.compare_digest(sent.encode(), web.csrf_secret.encode()):
        raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page")


def open_session(request: Request, origin_kind: str = "api") -> Session:
    session = Session(engine_of(request), expire_on_commit=False)
    stamp_origin(session, f"{origin_kind}:{client_ip(request)}")
    return session


PASSWORD_CHANGE_REQUIRED = "password_change_required"


def password_change_required() -> ApiError:
    return ApiError(
        403,
        PASSWORD_CHANGE_REQUIRED,
        "you must change your password before anything else: POST /api/me/password with "
        "current_password and new_password, or open /password in the web app",
    )


def request_ctx(
    request: Request, kind: str, form_token: str | None = None, *, pending_ok: bool = False
) -> Iterator[Ctx]:
    """The body of the API's and the web app's context dependencies (kind: api or web).
    `pending_ok`: also for a user who must change their password (only the endpoints
    that let them do that, or see who they are, or log out)."""
    s = settings_of(request)
    session = open_session(request, kind)
    try:
        user, web = _authenticate(request, session, s)
        if web is not None:
            check_csrf(request, web, form_token)
        actor = actor_of(session=session, user=user)
        session.commit()  # token last-used / session last-seen, even if the work fails
        if user.must_change_password and not pending_ok:
            raise password_change_required()
    except BaseException:
        session.rollback()
        session.close()
        raise
    request.state.user_id = user.id
    try:
        yield Ctx(session, user, actor, f"{kind}:{client_ip(request)}", s, web)
        session.commit()
    except AccessDenied:
        session.commit()  # keep the denial's audit row
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _ctx(request: Request) -> Iterator[Ctx]:
    yield from request_ctx(request, "api")


def _pending_ctx(request: Request) -> Iterator[Ctx]:
    yield from request_ctx(request, "api", pending_ok=True)


# `scope="function"`: commit before the response is sent, so a 2xx means it is stored.
CurrentCtx = Annotated[Ctx, Depends(_ctx, scope="function")]
# Also for a user who must change their password: `GET /api/me` and the change itself.
PendingCtx = Annotated[Ctx, Depends(_pending_ctx, scope="function")]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def slice(self, rows: list[Any]) -> list[Any]:
        return rows[self.offset : self.offset + self.limit]

    def envelope(self, items: list[Any], total: int) -> dict[str, Any]:
        following = self.offset + len(items)
        return {
            "items": items,
            "total": total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": following if following < total else None,
        }


def _page(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")] = 0,
) -> Page:
    return Page(limit, offset)


PageParams = Annotated[Page, Depends(_page)]
