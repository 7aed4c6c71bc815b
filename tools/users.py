"""User accounts: creation, password login with lock-out, API tokens and web sessions.

Keyword-only functions over a session; they flush, the caller commits. Messages name user
ids and usernames only, never a password or token. Login refusals all read the same
("invalid username or password") so a caller cannot tell which part was wrong, and a login
for an unknown user still hashes once, so timing does not tell either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from tools import audit
from tools.access import AccessDenied, Actor, Role, role_for
from tools.db import as_utc, utcnow
from tools.errors import InvalidInput, NotFound, SteveError
from tools.models import (
    Affiliation,
    ApiToken,
    Discipline,
    Practitioner,
    PractitionerStatus,
    User,
    WebSession,
)
from tools.registry import get_practitioner

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so both paths cost one argon2 hash.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
TOKEN_PREFIX = "stv_"
MIN_PASSWORD = 10


class LoginFailed(SteveError):
    """Wrong username or password, a locked or disabled account: one message for all."""

    def __init__(self, reason: str = "invalid username or password") -> None:
        super().__init__(reason)


def digest(secret: str) -> str:
    """SHA-256 of a long random secret (tokens, session ids): what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_password() -> str:
    """A one-time password for a new account (~120 bits)."""
    return secrets.token_urlsafe(15)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")


def _check_role(role: Role, person: Practitioner) -> None:
    """A user's role is the one their record implies, or admin (granted on purpose)."""
    implied = role_for(person)  # AccessDenied for external or inactive practitioners
    if role not in (implied, Role.ADMIN):
        raise InvalidInput(
            f"practitioner {person.id} is {person.discipline}; their role is {implied.value} "
            "(or admin)"
        )


def create_user(
    *,
    session: Session,
    username: str,
    practitioner_id: int,
    password: str,
    role: Role | None = None,
    must_change_password: bool = False,
    actor: str = "system",
) -> User:
    name = username.strip().lower()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise InvalidInput("a username is 1 to 80 characters without spaces")
    if session.exec(select(User).where(User.username == name)).first() is not None:
        raise InvalidInput(f"username {name!r} is taken")
    person = get_practitioner(session=session, practitioner_id=practitioner_id)
    try:
        chosen = role or role_for(person)
        _check_role(chosen, person)
    except AccessDenied as exc:
        raise InvalidInput(str(exc)) from None
    _check_password(password)
    user = User(
        username=name,
        practitioner_id=practitioner_id,
        role=chosen.value,
        password_hash=_HASHER.hash(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(session=session, actor=actor, action="create", entity="user", entity_id=user.id)
    return user


def create_admin_practitioner(*, session: Session, name: str = "Practice administrator") -> int:
    """An in-house admin-discipline record for the first admin on an empty practice."""
    person = Practitioner(name=name, discipline=Discipline.ADMIN, affiliation=Affiliation.IN_HOUSE)
    session.add(person)
    session.flush()
    assert person.id is not None
    return person.id


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def find_user(*, session: Session, username_or_id: str) -> User:
    text = username_or_id.strip()
    if text.isdigit():
        return get_user(session=session, user_id=int(text))
    user = session.exec(select(User).where(User.username == text.lower())).first()
    if user is None:
        raise InvalidInput(f"no user named {text!r}")
    return user


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.id))).all())


def set_active(*, session: Session, user_id: int, active: bool, actor: str = "system") -> User:
    """Disable (or re-enable) an account; disabling also ends its sessions and tokens."""
    user = get_user(session=session, user_id=user_id)
    user.active = active
    session.add(user)
    if not active:
        for s in session.exec(select(WebSession).where(WebSession.user_id == user_id)).all():
            session.delete(s)
        now = utcnow()
        for t in session.exec(
            select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        ).all():
            t.revoked_at = now
            session.add(t)
    audit.record(
        session=session,
        actor=actor,
        action="enable" if active else "disable",
        entity="user",
        entity_id=user_id,
    )
    session.flush()
    return user


def set_password(*, session: Session, user_id: int, password: str, actor: str = "system") -> User:
    _check_password(password)
    user = get_user(session=session, user_id=user_id)
    user.password_hash = _HASHER.hash(password)
    user.must_change_password = False
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    audit.record(session=session, actor=actor, action="password", entity="user", entity_id=user_id)
    session.flush()
    return user


def actor_of(*, session: Session, user: User) -> Actor:
    """The access-policy actor for a user, checked against their practitioner record now
    (a practitioner who left or became external loses access at once)."""
    person = get_practitioner(session=session, practitioner_id=user.practitioner_id)
    if person.status == PractitionerStatus.INACTIVE or person.affiliation != Affiliation.IN_HOUSE:
        raise AccessDenied(f"user {user.id} has no access (practitioner record inactive)")
    assert person.id is not None
    return Actor(person.id, Role(user.role), Discipline(person.discipline))


# ------------------------------------------------------------------ passwords


def _verify(hash_: str, password: str) -> bool:
    try:
        return _HASHER.verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    max_failures: int,
    lockout: timedelta,
    now: datetime | None = None,
) -> User:
    """The user for a correct password; LoginFailed otherwise (the caller commits either way,
    so failures count). After `max_failures` in a row the account locks for `lockout`."""
    now = now or utcnow()
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        _verify(_DUMMY_HASH, password)
        raise LoginFailed()
    locked = user.locked_until is not None and as_utc(user.locked_until) > now
    ok = _verify(user.password_hash, password)  # always hash: same time locked or not
    if locked or not user.active:
        audit.record(
            session=session,
            actor=f"user:{user.id}",
            action="login_refused",
            entity="user",
            entity_id=user.id,
        )
        raise LoginFailed()
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until, user.failed_logins = now + lockout, 0
        session.add(user)
        audit.record(
            session=session,
            actor=f"user:{user.id}",
            action="login_failed",
            entity="user",
            entity_id=user.id,
        )
        session.flush()
        raise LoginFailed()
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    session.add(user)
    audit.record(
        session=session, actor=f"user:{user.id}", action="login", entity="user", entity_id=user.id
    )
    session.flush()
    return user


# --------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(
    *,
    session: Session,
    user_id: int,
    name: str,
    expires_at: datetime | None = None,
    actor: str = "system",
) -> NewToken:
    user = get_user(session=session, user_id=user_id)
    if not user.active:
        raise InvalidInput(f"user {user_id} is disabled")
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user_id,
        name=label,
        prefix=f"{TOKEN_PREFIX}{prefix}",
        token_hash=digest(secret),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session=session, actor=actor, action="create", entity="api_token", entity_id=token.id
    )
    return NewToken(token, secret)


def revoke_token(*, session: Session, token_id: int, actor: str = "system") -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("api token", token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(
            session=session, actor=actor, action="revoke", entity="api_token", entity_id=token_id
        )
        session.flush()
    return token


def list_tokens(*, session: Session, user_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(col(ApiToken.id))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(session.exec(stmt).all())


def verify_token(*, session: Session, secret: str, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None (unknown, forged, revoked, expired)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    wanted = digest(secret)
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == wanted)).first()
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    now = now or utcnow()
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    # Written at most once a minute: a busy script should not turn every read into a write.
    if token.last_used_at is None or now - as_utc(token.last_used_at) > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return user


# -------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class NewSession:
    session: WebSession
    secret: str  # the cookie value; only its digest is stored


def start_session(*, session: Session, user_id: int, ip: str | None = None) -> NewSession:
    secret = secrets.token_urlsafe(32)
    row = WebSession(
        user_id=user_id,
        session_hash=digest(secret),
        csrf_secret=secrets.token_urlsafe(32),
        ip=(ip or "")[:45] or None,
    )
    session.add(row)
    session.flush()
    return NewSession(row, secret)


def check_session(
    *, session: Session, secret: str, idle: timedelta, now: datetime | None = None
) -> tuple[WebSession, User] | None:
    """The live session and its user; an idle-expired session is deleted and gives None."""
    if not secret or len(secret) > 200:
        return None
    now = now or utcnow()
    row = session.exec(select(WebSession).where(WebSession.session_hash == digest(secret))).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or now - as_utc(row.last_seen) > idle:
        session.delete(row)
        session.flush()
        return None
    if now - as_utc(row.last_seen) > timedelta(seconds=30):  # not a write per request
        row.last_seen = now
        session.add(row)
    return row, user


def end_session(*, session: Session, secret: str) -> None:
    row = session.exec(select(WebSession).where(WebSession.session_hash == digest(secret))).first()
    if row is not None:
        session.delete(row)
        session.flush()
